import { memo } from 'react';
import { DataTable, DeviceLink, TimeCell } from '@/components/ui/data-table';
import { RelativeTime } from '@/components/ui/relative-time';
import type { Alert } from '@/types/api';
import { describeAlert } from '../utils/describe-alert';
import { Acknowledgement } from './acknowledgement';
import { AlertTypeBadge } from './alert-type-badge';
import { SeverityBadge } from './severity-badge';

const AlertRow = memo(function AlertRow({ alert, isNew, showDevice }: { alert: Alert; isNew: boolean; showDevice: boolean }) {
  return (
    <tr
      data-new={isNew || undefined}
      className={`border-b border-slate-100 align-top transition-colors duration-1000 dark:border-slate-800 ${
        isNew ? 'bg-amber-50 dark:bg-amber-900/30' : ''
      }`}
    >
      <TimeCell value={alert.ts}>
        {isNew && (
          <span className="ml-2 rounded bg-amber-400 px-1.5 py-0.5 text-xs font-semibold text-amber-950">New</span>
        )}
      </TimeCell>
      {showDevice && (
        <td className="px-3 py-2">
          <DeviceLink deviceId={alert.device_id} />
        </td>
      )}
      <td className="px-3 py-2">
        <div className="flex flex-col items-start gap-1 md:flex-row md:items-center md:gap-3">
          <AlertTypeBadge type={alert.alert_type} />
          <span className="text-xs text-slate-700 md:text-sm dark:text-slate-300">{describeAlert(alert)}</span>
        </div>
      </td>
      <td className="px-3 py-2 whitespace-nowrap">
        <SeverityBadge severity={alert.severity} />
      </td>
      <td className="px-3 py-2">
        <div className="flex flex-col items-start gap-1">
          {alert.status === 'ACTIVE' ? (
            <span className="text-xs font-semibold text-red-700 dark:text-red-300">Active</span>
          ) : (
            <span className="text-xs text-slate-600 dark:text-slate-400">
              Cleared {alert.cleared_at && <RelativeTime value={alert.cleared_at} />}
            </span>
          )}
          {(alert.status === 'ACTIVE' || alert.acknowledged_at) && <Acknowledgement alert={alert} />}
        </div>
      </td>
    </tr>
  );
});

/** Alerts, newest first, with the ones that just arrived highlighted. */
export function AlertsTable({
  alerts,
  newIds,
  showDevice = true,
  label = 'Alerts',
}: {
  alerts: readonly Alert[];
  newIds: ReadonlySet<number>;
  showDevice?: boolean;
  label?: string;
}) {
  return (
    <DataTable label={label} columns={['Raised', showDevice && 'Device', 'Alert', 'Severity', 'Status']}>
      {alerts.map((alert) => (
        <AlertRow key={alert.id} alert={alert} isNew={newIds.has(alert.id)} showDevice={showDevice} />
      ))}
    </DataTable>
  );
}
