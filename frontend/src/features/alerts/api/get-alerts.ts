import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { Alert, AlertType } from '@/types/api';

export interface AlertFilters {
  deviceId?: string;
  alertType?: AlertType;
  limit?: number;
}

/** GET /api/alerts/: recent alerts, newest first, optionally for one device or type. */
export function getAlerts(
  { deviceId, alertType, limit = 100 }: AlertFilters,
  { signal }: { signal?: AbortSignal } = {},
): Promise<Alert[]> {
  return apiGet<Alert[]>('alerts/', { limit, deviceId, alert_type: alertType }, { signal });
}

export const alertsQueryOptions = ({ deviceId, alertType, limit = 100 }: AlertFilters) =>
  queryOptions({
    queryKey: ['alerts', { deviceId: deviceId ?? null, alertType: alertType ?? null, limit }],
    queryFn: ({ signal }) => getAlerts({ deviceId, alertType, limit }, { signal }),
    ...pollingOptions,
  });

/** Polls recent alerts every 3 s. */
export function useAlerts(filters: AlertFilters) {
  return useQuery({ ...alertsQueryOptions(filters), placeholderData: keepPreviousData });
}
