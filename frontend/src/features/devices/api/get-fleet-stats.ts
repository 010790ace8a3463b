import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGetPage } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { DeviceWindowStats } from '@/types/api';
import { pageParams, type DeviceFilters } from './device-filters';

/** The most requests one poll spends on the averages of one page of devices. */
export const FLEET_STATS_MAX_REQUESTS = 3;

/**
 * GET /api/stats/fleet/?window=&limit=&...&cursor=: the window averages of one page of the
 * fleet, whose last device is `lastDeviceId`. Both lists are in device id order and take the
 * same cursor, but the averages list holds only devices with readings in the window and does
 * not apply the status, search and type filters: from the device page's cursor it may stop
 * short of that page's last device. Its own `rel="next"` pages are then followed until they
 * pass it, for at most FLEET_STATS_MAX_REQUESTS requests; devices beyond show no average.
 */
export async function getFleetStats(
  window: string,
  filters: DeviceFilters,
  cursor: string | undefined,
  lastDeviceId: string | undefined,
  { signal }: { signal?: AbortSignal } = {},
): Promise<DeviceWindowStats[]> {
  const rows: DeviceWindowStats[] = [];
  let next = cursor;
  for (let request = 0; request < FLEET_STATS_MAX_REQUESTS; request += 1) {
    const page = await apiGetPage<DeviceWindowStats>('stats/fleet/', { window, ...pageParams(filters, next) }, { signal });
    rows.push(...page.items);
    const last = page.items.at(-1)?.device_id;
    // Device ids are ASCII, which the database orders byte by byte as JavaScript does.
    const passed = lastDeviceId === undefined || (last !== undefined && last >= lastDeviceId);
    if (passed || page.nextCursor === null) break;
    next = page.nextCursor;
  }
  return rows;
}

export const fleetStatsQueryOptions = (
  window: string,
  filters: DeviceFilters,
  cursor: string | undefined,
  lastDeviceId: string | undefined,
) =>
  queryOptions({
    queryKey: ['stats', 'fleet', { window, ...filters, cursor, lastDeviceId }],
    queryFn: ({ signal }) => getFleetStats(window, filters, cursor, lastDeviceId, { signal }),
    placeholderData: keepPreviousData,
    ...pollingOptions,
  });

/**
 * Polls every 3 s the window averages of the page of devices on screen, once that page is
 * known (`lastDeviceId` undefined: an empty page, nothing to ask).
 */
export function useFleetStats(window: string, filters: DeviceFilters, cursor: string | undefined, lastDeviceId: string | undefined) {
  return useQuery({ ...fleetStatsQueryOptions(window, filters, cursor, lastDeviceId), enabled: lastDeviceId !== undefined });
}
