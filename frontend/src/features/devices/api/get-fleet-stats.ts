import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { DeviceWindowStats } from '@/types/api';

/** GET /api/stats/fleet/?window=: averages for every device with readings in the window. */
export function getFleetStats(window: string, { signal }: { signal?: AbortSignal } = {}): Promise<DeviceWindowStats[]> {
  return apiGet<DeviceWindowStats[]>('stats/fleet/', { window }, { signal });
}

export const fleetStatsQueryOptions = (window = '5m') =>
  queryOptions({
    queryKey: ['stats', 'fleet', { window }],
    queryFn: ({ signal }) => getFleetStats(window, { signal }),
    ...pollingOptions,
  });

/** Polls the fleet's window averages (one request for all devices) every 3 s. */
export function useFleetStats(window = '5m') {
  return useQuery(fleetStatsQueryOptions(window));
}
