import { formatCount } from '@/lib/format';
import type { FleetSummary } from '@/types/api';

function Count({ label, value, tone }: { label: string; value: number; tone: string }) {
  return (
    <div className="rounded-xl border border-slate-200 bg-white px-4 py-3 shadow-sm dark:border-slate-700 dark:bg-slate-900">
      <dt className="text-xs font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400">{label}</dt>
      <dd className={`text-2xl font-semibold tabular-nums ${tone}`}>{formatCount(value)}</dd>
    </div>
  );
}

/** The whole fleet's totals, from /api/stats/summary/ (not from the page of devices shown). */
export function FleetSummaryRow({ summary }: { summary: FleetSummary }) {
  return (
    <dl aria-label="Fleet totals" className="grid grid-cols-2 gap-3 sm:grid-cols-4">
      <Count label="Devices" value={summary.devices} tone="text-slate-900 dark:text-slate-100" />
      <Count label="Online" value={summary.online} tone="text-emerald-600 dark:text-emerald-400" />
      <Count label="Offline" value={summary.offline} tone="text-slate-600 dark:text-slate-300" />
      <Count
        label="Active alerts"
        value={summary.alerts_active}
        tone={summary.alerts_active > 0 ? 'text-red-600 dark:text-red-400' : 'text-slate-600 dark:text-slate-300'}
      />
    </dl>
  );
}
