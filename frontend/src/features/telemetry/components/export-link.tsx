import { apiUrl } from '@/lib/api-client';
import { useNow } from '@/lib/use-now';
import type { SeriesWindow } from '@/types/api';
import { describeWindow, windowSeconds } from '../utils/windows';

/** The export URL of a device's readings from `seconds` before `now` to `now`, as CSV. */
export function exportUrl(deviceId: string, seconds: number, now: number): string {
  // Whole seconds: the link then changes once a second, not on every render.
  const until = Math.floor(now / 1000) * 1000;
  return apiUrl('telemetry/export/', {
    deviceId,
    since: new Date(until - seconds * 1000).toISOString(),
    until: new Date(until).toISOString(),
    format: 'csv',
  });
}

/** A link that downloads the window's readings of a device as CSV from the export endpoint. */
export function ExportLink({ deviceId, window }: { deviceId: string; window: SeriesWindow }) {
  const now = useNow();
  return (
    <a
      href={exportUrl(deviceId, windowSeconds(window), now)}
      download={`telemetry-${deviceId}-${window}.csv`}
      className="rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100 dark:hover:bg-slate-800"
    >
      Download CSV ({describeWindow(window)})
    </a>
  );
}
