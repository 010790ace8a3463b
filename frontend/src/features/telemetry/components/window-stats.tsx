import { ErrorMessage } from '@/components/ui/error-message';
import { Skeleton } from '@/components/ui/skeleton';
import { formatCount, formatMetric } from '@/lib/format';
import type { SeriesWindow } from '@/types/api';
import { useWindowStats } from '../api/get-window-stats';
import { describeWindow } from '../utils/windows';

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="rounded-xl border border-slate-200 bg-white px-4 py-3 shadow-sm dark:border-slate-700 dark:bg-slate-900">
      <dt className="text-xs font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400">{label}</dt>
      <dd className="text-xl font-semibold text-slate-900 tabular-nums dark:text-slate-100">{value}</dd>
    </div>
  );
}

/** Average temperature, humidity and reading count of a device over the window. */
export function WindowStats({ deviceId, window }: { deviceId: string; window: SeriesWindow }) {
  const { data, error, isPending } = useWindowStats(deviceId, window);
  if (isPending) return <Skeleton className="h-20 w-full" />;
  if (!data) return <ErrorMessage error={error} what="the window stats" />;
  return (
    <dl aria-label={`Stats for the ${describeWindow(window)}`} className="grid grid-cols-1 gap-3 sm:grid-cols-3">
      <Stat label="Avg temperature" value={formatMetric(data.avg_temperature, '°C')} />
      <Stat label="Avg humidity" value={formatMetric(data.avg_humidity, '%')} />
      <Stat label="Readings" value={formatCount(data.data_points)} />
    </dl>
  );
}
