import { queryOptions, useQuery } from '@tanstack/react-query';
import { pollingOptions } from '@/lib/query-client';
import { getAlerts } from './get-alerts';

/** The most the header counts; more shows as "100+". */
export const OPEN_CRITICAL_LIMIT = 100;

export const openCriticalQueryOptions = () =>
  queryOptions({
    queryKey: ['alerts', 'open-critical'],
    queryFn: ({ signal }) =>
      getAlerts(
        { status: 'ACTIVE', acknowledged: false, severity: 'critical', limit: OPEN_CRITICAL_LIMIT },
        { signal },
      ),
    select: (alerts) => alerts.length,
    ...pollingOptions,
  });

/** Polls the number of ACTIVE critical alerts nobody has acknowledged (at most OPEN_CRITICAL_LIMIT). */
export function useOpenCriticalCount() {
  return useQuery(openCriticalQueryOptions());
}
