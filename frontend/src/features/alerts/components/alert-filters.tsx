import type { ReactNode } from 'react';
import type { AlertType } from '@/types/api';
import { ALERT_TYPES } from '../utils/describe-alert';

interface Props {
  /** The device filter, which the page gets from the devices feature. */
  deviceFilter: ReactNode;
  alertType: AlertType | undefined;
  onTypeChange: (alertType: AlertType | undefined) => void;
}

const selectClass =
  'rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 focus:border-sky-500 focus:outline-none dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100';

/** Device and type filters for the alerts page. */
export function AlertFilters({ deviceFilter, alertType, onTypeChange }: Props) {
  return (
    <div className="flex flex-col gap-3 sm:flex-row sm:items-end">
      {deviceFilter}
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
