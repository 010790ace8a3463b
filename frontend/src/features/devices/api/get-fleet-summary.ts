import { queryOptions, useQuery } from '@tanstack/react-query';
import { ApiError, apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { FleetSummary } from '@/types/api';

/** GET /api/stats/summary/: device, online, offline and active alert totals of the whole fleet. */
export function getFleetSummary({ signal }: { signal?: AbortSignal } = {}): Promise<FleetSummary> {
  return apiGet<FleetSummary>('stats/summary/', {}, { signal });
}

const absent = (error: unknown) => error instanceof ApiError && error.status === 404;

export const fleetSummaryQueryOptions = () =>
  queryOptions({
    queryKey: ['stats', 'summary'],
    queryFn: ({ signal }) => getFleetSummary({ signal }),
    ...pollingOptions,
    // A server from before the summary answers 404: stop asking it.
    refetchInterval: (query) => (absent(query.state.error) ? false : pollingOptions.refetchInterval),
  });

/** Polls the fleet's totals every 3 s; `data` stays undefined on a server without them. */
export function useFleetSummary() {
  return useQuery(fleetSummaryQueryOptions());
}
