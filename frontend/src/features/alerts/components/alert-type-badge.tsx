import type { AlertType } from '@/types/api';

const styles: Record<AlertType, string> = {
  HIGH_TEMP: 'bg-red-100 text-red-800 dark:bg-red-900/60 dark:text-red-200',
  OFFLINE: 'bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100',
  ONLINE: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200',
  LOW_BATTERY: 'bg-amber-100 text-amber-800 dark:bg-amber-900/60 dark:text-amber-200',
  ANOMALY: 'bg-violet-100 text-violet-800 dark:bg-violet-900/60 dark:text-violet-200',
};

/** An alert type as a coloured label with the API's name on it. */
export function AlertTypeBadge({ type }: { type: AlertType }) {
  return <span className={`inline-block rounded px-1.5 py-0.5 font-mono text-xs font-semibold ${styles[type]}`}>{type}</span>;
}
