import { Link } from 'react-router';
import { OPEN_CRITICAL_LIMIT, useOpenCriticalCount } from '../api/get-open-critical-count';

/** The header's count of ACTIVE critical alarms nobody has acknowledged, linking to the Active tab. */
export function OpenCriticalCount() {
  const { data: count } = useOpenCriticalCount();
  if (count === undefined) return null;
  const shown = count >= OPEN_CRITICAL_LIMIT ? `${OPEN_CRITICAL_LIMIT}+` : String(count);
  const label = `${shown} unacknowledged critical ${count === 1 ? 'alarm' : 'alarms'}`;
  return (
    <Link
      to="/alerts?status=active"
      aria-label={label}
      title={label}
      className={`inline-flex items-center gap-1 rounded-full px-2.5 py-0.5 text-xs font-semibold ${
        count > 0
          ? 'bg-red-600 text-white hover:bg-red-700'
          : 'bg-slate-200 text-slate-700 hover:bg-slate-300 dark:bg-slate-800 dark:text-slate-300'
      }`}
    >
      <span aria-hidden="true">{shown}</span>
      <span aria-hidden="true">critical</span>
    </Link>
  );
}
