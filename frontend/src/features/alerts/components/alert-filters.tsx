import type { AlertType } from '@/types/api';
import { ALERT_TYPES } from '../utils/describe-alert';

interface Props {
  deviceIds: readonly string[];
  deviceId: string | undefined;
  alertType: AlertType | undefined;
  onDeviceChange: (deviceId: string | undefined) => void;
  onTypeChange: (alertType: AlertType | undefined) => void;
}

const selectClass =
  'rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 focus:border-sky-500 focus:outline-none dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100';

/** Device and type filters for the alerts page. */
export function AlertFilters({ deviceIds, deviceId, alertType, onDeviceChange, onTypeChange }: Props) {
  // Keep a device chosen by URL selectable even before the device list has loaded.
  const options = deviceId && !deviceIds.includes(deviceId) ? [deviceId, ...deviceIds] : deviceIds;
  return (
    <div className="flex flex-col gap-3 sm:flex-row sm:items-end">
      <label className="flex flex-col gap-1 text-sm font-medium text-slate-700 dark:text-slate-300">
        Device
        <select
          value={deviceId ?? ''}
          onChange={(event) => onDeviceChange(event.target.value || undefined)}
          className={selectClass}
        >
          <option value="">All devices</option>
          {options.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col gap-1 text-sm font-medium text-slate-700 dark:text-slate-300">
        Type
        <select
          value={alertType ?? ''}
          onChange={(event) => onTypeChange((event.target.value || undefined) as AlertType | undefined)}
          className={selectClass}
        >
          <option value="">All types</option>
          {ALERT_TYPES.map((type) => (
            <option key={type.value} value={type.value}>
              {type.label} ({type.value})
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
