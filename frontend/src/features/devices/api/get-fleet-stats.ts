import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGetPage } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { DeviceWindowStats } from '@/types/api';
import { pageParams, type DeviceFilters } from './device-filters';

/**
 * GET /api/stats/fleet/?window=&limit=&status=&search=&device_type=&cursor=: the window
 * averages of the devices of one page of the device list. The server pages them over the
 * same devices, with the same filters and cursor, so one request covers the page; a device
 * without readings in the window has no row.
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

/** Polls every 3 s the window averages of the page of devices on screen, once that page has devices. */
export function useFleetStats(window: string, filters: DeviceFilters, cursor: string | undefined, enabled: boolean) {
  return useQuery({ ...fleetStatsQueryOptions(window, filters, cursor), enabled });
}
