import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGetPage } from '@/lib/api-client';
import type { Device } from '@/types/api';
import { filterDevices } from '../utils/filter-devices';

/** How many suggestions a device search offers. */
export const DEVICE_SUGGESTIONS = 20;

/**
 * GET /api/devices/?search=&limit=: the first devices whose id or name starts with `prefix`.
 * A server that does not search answers every device: the same rule, and the limit, here.
 */
export async function searchDevices(prefix: string, { signal }: { signal?: AbortSignal } = {}): Promise<Device[]> {
  const page = await apiGetPage<Device>('devices/', { search: prefix, limit: DEVICE_SUGGESTIONS }, { signal });
  return filterDevices(page.items, 'ALL', prefix).slice(0, DEVICE_SUGGESTIONS);
}

export const deviceSearchQueryOptions = (prefix: string) =>
  queryOptions({
    queryKey: ['devices', 'search', { prefix }],
    queryFn: ({ signal }) => searchDevices(prefix, { signal }),
    // Suggestions for a menu, asked again when the prefix changes: no polling.
    staleTime: 30_000,
    placeholderData: keepPreviousData,
  });

/** The suggestions for a typed device prefix ('' gives the first devices). */
export function useDeviceSearch(prefix: string) {
  return useQuery(deviceSearchQueryOptions(prefix.trim()));
}
