import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { Series, SeriesWindow } from '@/types/api';

/** How many buckets a chart asks for: about one per horizontal pixel pair. */
export const SERIES_POINTS = 300;

/** GET /api/telemetry/series/: bucket averages over a window, oldest first. */
export function getSeries(
  { deviceId, window, points = SERIES_POINTS }: { deviceId: string; window: SeriesWindow; points?: number },
  { signal }: { signal?: AbortSignal } = {},
): Promise<Series> {
  return apiGet<Series>('telemetry/series/', { deviceId, window, points }, { signal });
}

export const seriesQueryOptions = (deviceId: string, window: SeriesWindow) =>
  queryOptions({
    queryKey: ['telemetry', 'series', { deviceId, window }],
    queryFn: ({ signal }) => getSeries({ deviceId, window }, { signal }),
    ...pollingOptions,
  });

/** Polls a device's bucketed series every 3 s, keeping the old window's data while a new one loads. */
export function useSeries(deviceId: string, window: SeriesWindow) {
  return useQuery({ ...seriesQueryOptions(deviceId, window), placeholderData: keepPreviousData });
}
