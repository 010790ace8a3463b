import { queryOptions, useQuery } from '@tanstack/react-query';
import { ApiError, apiGet } from '@/lib/api-client';
import type { IngestRateMinute } from '@/types/api';

/** The minutes change once a minute; every 10 s shows a new one soon enough. */
const INGEST_RATE_POLL_MS = 10_000;

/** GET /api/stats/ingest-rate/: readings stored in each of the last 60 minutes, oldest first. */
export function getIngestRate({ signal }: { signal?: AbortSignal } = {}): Promise<IngestRateMinute[]> {
  return apiGet<IngestRateMinute[]>('stats/ingest-rate/', {}, { signal });
}

const absent = (error: unknown) => error instanceof ApiError && error.status === 404;

export const ingestRateQueryOptions = () =>
  queryOptions({
    queryKey: ['stats', 'ingest-rate'],
    queryFn: ({ signal }) => getIngestRate({ signal }),
    refetchIntervalInBackground: false,
    // A server without the endpoint answers 404: stop asking it.
    refetchInterval: (query) => (absent(query.state.error) ? false : INGEST_RATE_POLL_MS),
  });

/** Polls the ingest rate of the last hour. */
export function useIngestRate() {
  return useQuery(ingestRateQueryOptions());
}
