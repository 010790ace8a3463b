import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { WindowStats } from '@/types/api';

/** GET /api/stats/avg/: a device's averages and reading count over a window. */
export function getWindowStats(
  { deviceId, window }: { deviceId: string; window: string },
  { signal }: { signal?: AbortSignal } = {},
): Promise<WindowStats> {
  return apiGet<WindowStats>('stats/avg/', { deviceId, window }, { signal });
}

export const windowStatsQueryOptions = (deviceId: string, window: string) =>
  queryOptions({
    queryKey: ['stats', 'avg', { deviceId, window }],
    queryFn: ({ signal }) => getWindowStats({ deviceId, window }, { signal }),
    ...pollingOptions,
  });

/** Polls a device's window stats every 3 s. */
export function useWindowStats(deviceId: string, window: string) {
  return useQuery({ ...windowStatsQueryOptions(deviceId, window), placeholderData: keepPreviousData });
}
