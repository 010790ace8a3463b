import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { Alert, AlertStatus, AlertType, Severity } from '@/types/api';

export interface AlertFilters {
  deviceId?: string;
  alertType?: AlertType;
  status?: AlertStatus;
  acknowledged?: boolean;
  severity?: Severity;
  limit?: number;
}

const params = ({ deviceId, alertType, status, acknowledged, severity, limit = 100 }: AlertFilters) => ({
  limit,
  deviceId,
  alert_type: alertType,
  status,
  acknowledged: acknowledged === undefined ? undefined : String(acknowledged),
  severity,
});

/** GET /api/alerts/: recent alerts, newest first, filtered by device, type, status, acknowledgement, severity. */
export function getAlerts(filters: AlertFilters, { signal }: { signal?: AbortSignal } = {}): Promise<Alert[]> {
  return apiGet<Alert[]>('alerts/', params(filters), { signal });
}

export const alertsQueryOptions = (filters: AlertFilters) =>
  queryOptions({
    queryKey: ['alerts', params(filters)],
    queryFn: ({ signal }) => getAlerts(filters, { signal }),
    ...pollingOptions,
  });

/** Polls recent alerts every 3 s. */
export function useAlerts(filters: AlertFilters) {
  return useQuery({ ...alertsQueryOptions(filters), placeholderData: keepPreviousData });
}
