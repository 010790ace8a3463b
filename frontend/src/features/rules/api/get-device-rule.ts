import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import type { DeviceRule } from '@/types/api';

/** GET /api/rules/devices/{id}/: the device's own rule and each threshold in force with its source. */
export function getDeviceRule(deviceId: string, { signal }: { signal?: AbortSignal } = {}): Promise<DeviceRule> {
  return apiGet<DeviceRule>(`rules/devices/${encodeURIComponent(deviceId)}/`, {}, { signal });
}

export const deviceRuleQueryOptions = (deviceId: string) =>
  queryOptions({
    queryKey: ['rules', 'device', deviceId],
    queryFn: ({ signal }) => getDeviceRule(deviceId, { signal }),
    // Rules change by hand, rarely: no need to poll them every 3 s.
    refetchInterval: 30_000,
    refetchIntervalInBackground: false,
  });

/** The thresholds in force for a device, refreshed every 30 s. */
export function useDeviceRule(deviceId: string) {
  return useQuery(deviceRuleQueryOptions(deviceId));
}
