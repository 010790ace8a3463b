import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import type { PlatformConfig } from '@/types/api';

/** GET /api/config/: the alert thresholds the backend runs with. */
export function getConfig({ signal }: { signal?: AbortSignal } = {}): Promise<PlatformConfig> {
  return apiGet<PlatformConfig>('config/', {}, { signal });
}

export const configQueryOptions = () =>
  queryOptions({
    queryKey: ['config'],
    queryFn: ({ signal }) => getConfig({ signal }),
    // Settings change only with a server restart.
    staleTime: 5 * 60_000,
  });

/** The backend's HIGH_TEMP threshold and OFFLINE delay. */
export function useConfig() {
  return useQuery(configQueryOptions());
}
