import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGetPage } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { DeviceWindowStats } from '@/types/api';
import { pageParams, type DeviceFilters } from './device-filters';

/**
 * GET /api/stats/fleet/?window=&limit=&...&cursor=: the window averages of one page of the
 * fleet. Given the device page's filters and cursor, it covers that page's devices: both
 * lists are in device id order and this one holds only devices with readings.
 */
export async function getFleetStats(
  window: string,
  filters: DeviceFilters,
  cursor: string | undefined,
  { signal }: { signal?: AbortSignal } = {},
): Promise<DeviceWindowStats[]> {
  const page = await apiGetPage<DeviceWindowStats>('stats/fleet/', { window, ...pageParams(filters, cursor) }, { signal });
  return page.items;
}

export const fleetStatsQueryOptions = (window: string, filters: DeviceFilters, cursor: string | undefined) =>
  queryOptions({
    queryKey: ['stats', 'fleet', { window, ...filters, cursor }],
    queryFn: ({ signal }) => getFleetStats(window, filters, cursor, { signal }),
    placeholderData: keepPreviousData,
    ...pollingOptions,
  });

/** Polls the window averages of the page of devices on screen every 3 s. */
export function useFleetStats(window: string, filters: DeviceFilters, cursor: string | undefined) {
  return useQuery(fleetStatsQueryOptions(window, filters, cursor));
}
