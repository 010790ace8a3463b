import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { Device } from '@/types/api';

/** GET /api/devices/{id}/: one device; 404 when unknown. */
export function getDevice(deviceId: string, { signal }: { signal?: AbortSignal } = {}): Promise<Device> {
  return apiGet<Device>(`devices/${encodeURIComponent(deviceId)}/`, {}, { signal });
}

export const deviceQueryOptions = (deviceId: string) =>
  queryOptions({
    queryKey: ['devices', deviceId],
    queryFn: ({ signal }) => getDevice(deviceId, { signal }),
    ...pollingOptions,
  });

/** Polls one device every 3 s. */
export function useDevice(deviceId: string) {
  return useQuery(deviceQueryOptions(deviceId));
}
