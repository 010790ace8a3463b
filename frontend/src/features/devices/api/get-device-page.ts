import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGetPage, type Page } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { Device } from '@/types/api';
import { pageParams, type DeviceFilters } from './device-filters';

/**
 * GET /api/devices/?limit=&status=&search=&device_type=&cursor=: one page of the fleet and
 * the next page's cursor. A server that does not page answers every device and no cursor.
 */
export function getDevicePage(
  filters: DeviceFilters,
  cursor: string | undefined,
  { signal }: { signal?: AbortSignal } = {},
): Promise<Page<Device>> {
  return apiGetPage<Device>('devices/', pageParams(filters, cursor), { signal });
}

export const devicePageQueryOptions = (filters: DeviceFilters, cursor: string | undefined) =>
  queryOptions({
    queryKey: ['devices', 'page', { ...filters, cursor }],
    queryFn: ({ signal }) => getDevicePage(filters, cursor, { signal }),
    // The page on screen stays while the next one loads, instead of a skeleton per click.
    placeholderData: keepPreviousData,
    ...pollingOptions,
  });

/** Polls the one page of devices on screen every 3 s. */
export function useDevicePage(filters: DeviceFilters, cursor: string | undefined) {
  return useQuery(devicePageQueryOptions(filters, cursor));
}
