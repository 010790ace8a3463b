import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { Health } from '@/types/api';

/** GET /api/health/: database, ingest (MQTT) and worker state. */
export function getHealth({ signal }: { signal?: AbortSignal } = {}): Promise<Health> {
  return apiGet<Health>('health/', {}, { signal });
}

export const healthQueryOptions = () =>
  queryOptions({
    queryKey: ['health'],
    queryFn: ({ signal }) => getHealth({ signal }),
    ...pollingOptions,
    // The banner must react to the next failed poll, not after a retry.
    retry: false,
  });

/** Polls the API's health every 3 s. */
export function useHealth() {
  return useQuery(healthQueryOptions());
}
