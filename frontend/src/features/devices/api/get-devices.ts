import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { Device } from '@/types/api';

/** GET /api/devices/: every device with its status and latest reading. */
export function getDevices({ signal }: { signal?: AbortSignal } = {}): Promise<Device[]> {
  return apiGet<Device[]>('devices/', {}, { signal });
}

// The whole fleet in one request: the status filter and the online/offline counts
// are worked out in the browser from the same list, so filtering costs no request.
export const devicesQueryOptions = () =>
  queryOptions({
    queryKey: ['devices'],
    queryFn: ({ signal }) => getDevices({ signal }),
    ...pollingOptions,
  });

/**
 * Polls the device list, every 3 s by default; a page that needs only the ids
 * (a filter menu) passes a slower interval.
 */
export function useDevices({ refetchInterval = pollingOptions.refetchInterval }: { refetchInterval?: number } = {}) {
  return useQuery({ ...devicesQueryOptions(), refetchInterval });
}
