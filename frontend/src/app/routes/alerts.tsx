import { useCallback } from 'react';
import { useSearchParams } from 'react-router';
import { EmptyState } from '@/components/ui/empty-state';
import { AlertFilters } from '@/features/alerts/components/alert-filters';
import { AlertStatusTabs, parseAlertStatus } from '@/features/alerts/components/alert-status-tabs';
import { AlertsView, NoAlertsYet } from '@/features/alerts/components/alerts-view';
import { parseAlertType } from '@/features/alerts/utils/describe-alert';
import { useConfig } from '@/features/config/api/get-config';
import { DevicePicker } from '@/features/devices/components/device-picker';
import type { AlertStatus, AlertType } from '@/types/api';

/** Recent alerts of the fleet, newest first, filtered by ?status=, ?device= and ?type=. */
export function AlertsPage() {
  const [params, setParams] = useSearchParams();
  const deviceId = params.get('device') || undefined;
  const alertType = parseAlertType(params.get('type'));
  const status = parseAlertStatus(params.get('status'));
  const { data: config } = useConfig();

  const update = useCallback(
    (key: string, value: string | undefined) =>
      setParams((previous) => {
        const next = new URLSearchParams(previous);
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      }),
    [setParams],
  );
  const onDeviceChange = useCallback((value: string | undefined) => update('device', value), [update]);
  const onTypeChange = useCallback((value: AlertType | undefined) => update('type', value), [update]);
  const onStatusChange = useCallback(
    (value: AlertStatus | undefined) => update('status', value?.toLowerCase()),
    [update],
  );

  return (
    <div className="space-y-4">
      <title>Alerts · Telemetry</title>
      <h1 className="text-2xl font-bold">Alerts</h1>
      <AlertStatusTabs value={status} onChange={onStatusChange} />
      <AlertFilters
        deviceFilter={<DevicePicker label="Device" value={deviceId} onChange={onDeviceChange} />}
        alertType={alertType}
        onTypeChange={onTypeChange}
      />
      <AlertsView
        deviceId={deviceId}
        alertType={alertType}
        status={status}
        label="Recent alerts"
        empty={
          deviceId || alertType || status ? (
            <EmptyState title="No alerts match these filters" />
          ) : (
            <NoAlertsYet threshold={config?.high_temp_threshold} offlineAfter={config?.offline_after_seconds} />
          )
        }
      />
    </div>
  );
}
