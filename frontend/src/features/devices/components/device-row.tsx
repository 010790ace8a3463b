import { memo } from 'react';
import { Link } from 'react-router';
import { RelativeTime } from '@/components/ui/relative-time';
import { formatMetric } from '@/lib/format';
import type { Device, DeviceWindowStats } from '@/types/api';
import { StatusBadge } from './status-badge';

/** Fixed so that the virtualised table knows every row's height without measuring. */
export const ROW_HEIGHT = 60;

interface Props {
  device: Device;
  avg: DeviceWindowStats | undefined;
  threshold: number | undefined;
  rowIndex: number;
}

function MetricCell({ value, avg, unit, hot }: { value: number | null | undefined; avg: number | null | undefined; unit: '°C' | '%'; hot?: boolean }) {
  return (
    <td className="px-2 text-right whitespace-nowrap tabular-nums sm:px-3">
      <div className={hot ? 'font-semibold text-red-600 dark:text-red-400' : 'text-slate-900 dark:text-slate-100'}>
        {formatMetric(value, unit)}
      </div>
      <div className="text-xs text-slate-500 dark:text-slate-400">
        <span className="sr-only">5 min average </span>
        <span aria-hidden="true" className="hidden sm:inline">avg </span>
        {formatMetric(avg, unit)}
      </div>
    </td>
  );
}

// Memoised: query results keep the identity of unchanged devices across polls
// (structural sharing), so a poll re-renders only the rows whose data changed.
export const DeviceRow = memo(function DeviceRow({ device, avg, threshold, rowIndex }: Props) {
  const temperature = device.latest?.temperature;
  const hot = threshold !== undefined && temperature != null && temperature > threshold;
  const subtitle = [device.name, device.location].filter(Boolean).join(' · ');
  return (
    <tr
      aria-rowindex={rowIndex}
      style={{ height: ROW_HEIGHT }}
      className="border-b border-slate-100 hover:bg-slate-50 dark:border-slate-800 dark:hover:bg-slate-800/60"
    >
      <td className="max-w-0 px-2 sm:px-3">
        <Link
          to={`/devices/${encodeURIComponent(device.device_id)}`}
          className="block truncate font-medium text-sky-700 hover:underline focus-visible:outline-2 focus-visible:outline-sky-500 dark:text-sky-400"
        >
          {device.device_id}
        </Link>
        {subtitle && <div className="truncate text-xs text-slate-500 dark:text-slate-400">{subtitle}</div>}
      </td>
      <td className="px-2 sm:px-3">
        <StatusBadge status={device.status} />
        <RelativeTime value={device.last_seen} className="block text-xs text-slate-500 sm:hidden dark:text-slate-400" />
      </td>
      <td className="hidden px-3 text-sm whitespace-nowrap text-slate-700 sm:table-cell dark:text-slate-300">
        <RelativeTime value={device.last_seen} />
      </td>
      <MetricCell value={temperature} avg={avg?.avg_temperature} unit="°C" hot={hot} />
      <MetricCell value={device.latest?.humidity} avg={avg?.avg_humidity} unit="%" />
    </tr>
  );
});
