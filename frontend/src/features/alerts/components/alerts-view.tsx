import type { ReactNode } from 'react';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorMessage } from '@/components/ui/error-message';
import { SkeletonBlock } from '@/components/ui/skeleton';
import type { AlertStatus, AlertType } from '@/types/api';
import { useAlerts } from '../api/get-alerts';
import { useNewAlertIds } from '../hooks/use-new-alert-ids';
import { AlertsTable } from './alerts-table';

interface Props {
  deviceId?: string;
  alertType?: AlertType;
  status?: AlertStatus;
  limit?: number;
  /** Hide the device column when all alerts are of one device. */
  showDevice?: boolean;
  label?: string;
  /** What to say when no alert matches. */
  empty: ReactNode;
}

/** Polls alerts for the given filters and shows them, highlighting arrivals. */
export function AlertsView({ deviceId, alertType, status, limit = 100, showDevice = true, label, empty }: Props) {
  const { data, error, isPending, isPlaceholderData } = useAlerts({ deviceId, alertType, status, limit });
  const scope = `${deviceId ?? ''}|${alertType ?? ''}|${status ?? ''}|${limit}`;
  const newIds = useNewAlertIds(isPlaceholderData ? undefined : data, scope);

  if (isPending) return <SkeletonBlock label="Loading alerts" lines={4} />;
  if (!data) return <ErrorMessage error={error} what="the alerts" />;
  if (data.length === 0) return <>{empty}</>;
  return (
    <div aria-busy={isPlaceholderData}>
      <AlertsTable alerts={data} newIds={newIds} showDevice={showDevice} label={label} />
    </div>
  );
}

/** The empty state for a platform that has raised no alert yet. */
export function NoAlertsYet({ threshold, offlineAfter }: { threshold?: number; offlineAfter?: number }) {
  return (
    <EmptyState title="No alerts yet">
      <p>
        A HIGH_TEMP alert is raised when a reading goes above {threshold ?? 30} °C, an OFFLINE alert when a device
        is silent for more than {offlineAfter ?? 10} s, and an ONLINE alert when it reports again.
      </p>
      <p className="mt-1">
        Alerts need the worker running: <code className="font-mono">python manage.py process_tasks --duration=0 --sleep=1</code>.
      </p>
    </EmptyState>
  );
}
