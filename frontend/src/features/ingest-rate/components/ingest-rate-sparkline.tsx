import { useNow } from '@/lib/use-now';
import { useIngestRate } from '../api/get-ingest-rate';
import { lastFullMinuteRate, sparklinePoints } from '../utils/ingest-rate';

const WIDTH = 80;
const HEIGHT = 20;

/**
 * The header's ingest rate: readings stored per minute over the last hour as a sparkline,
 * and readings/s of the last full minute. Hidden while unknown, e.g. on a server without
 * /api/stats/ingest-rate/ (its 404 is not an error worth a word here).
 */
export function IngestRateSparkline() {
  const { data } = useIngestRate();
  const now = useNow();
  if (!data || data.length === 0) return null;
  const rate = lastFullMinuteRate(data, now);
  const formatted = rate.toLocaleString('en-US', { maximumFractionDigits: rate < 10 ? 1 : 0 });
  return (
    <div
      className="flex items-center gap-2 text-xs text-slate-600 sm:text-sm dark:text-slate-300"
      title="Readings stored per minute over the last hour, and per second in the last full minute."
    >
      <svg
        role="img"
        aria-label="Readings stored per minute, last 60 minutes"
        width={WIDTH}
        height={HEIGHT}
        viewBox={`-1 -1 ${WIDTH + 2} ${HEIGHT + 2}`}
        className="text-sky-600 dark:text-sky-400"
      >
        <polyline
          points={sparklinePoints(data, WIDTH, HEIGHT)}
          fill="none"
          stroke="currentColor"
          strokeWidth={1.5}
          strokeLinejoin="round"
        />
      </svg>
      <span className="whitespace-nowrap tabular-nums">
        <span className="font-medium text-slate-800 dark:text-slate-100">{formatted}</span> readings/s
      </span>
    </div>
  );
}
