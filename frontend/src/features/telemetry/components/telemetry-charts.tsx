import { useMemo } from 'react';
import { Code, EmptyState } from '@/components/ui/empty-state';
import { ErrorMessage } from '@/components/ui/error-message';
import { Panel } from '@/components/ui/panel';
import { Skeleton } from '@/components/ui/skeleton';
import { formatMetric } from '@/lib/format';
import type { SeriesWindow } from '@/types/api';
import { useSeries } from '../api/get-series';
import { summarize, toChartPoints, type ChartPoint } from '../utils/series';
import { describeWindow } from '../utils/windows';
import { TimeSeriesChart } from './time-series-chart';

interface Props {
  deviceId: string;
  window: SeriesWindow;
  /** The HIGH_TEMP threshold, drawn on the temperature chart. */
  threshold?: number;
  /** Silences longer than this break the lines (the backend's OFFLINE delay). */
  offlineAfterSeconds?: number;
}

function rangeText(points: ChartPoint[], unit: '°C' | '%'): string {
  const summary = summarize(points);
  if (!summary) return 'no values';
  return `${formatMetric(summary.min, unit)} to ${formatMetric(summary.max, unit)}, latest ${formatMetric(summary.latest, unit)}`;
}

/** Temperature and humidity charts of one device over a window, from the bucketed series. */
export function TelemetryCharts({ deviceId, window, threshold, offlineAfterSeconds = 10 }: Props) {
  const { data, error, isPending, isPlaceholderData } = useSeries(deviceId, window);
  const bucketSeconds = data?.bucket_seconds ?? 1;
  const points = data?.points;
  const temperature = useMemo(
    () => toChartPoints(points ?? [], 'temperature', bucketSeconds, offlineAfterSeconds),
    [points, bucketSeconds, offlineAfterSeconds],
  );
  const humidity = useMemo(
    () => toChartPoints(points ?? [], 'humidity', bucketSeconds, offlineAfterSeconds),
    [points, bucketSeconds, offlineAfterSeconds],
  );
  const span = describeWindow(window);

  if (isPending) {
    return (
      <div role="status" className="grid gap-4 lg:grid-cols-2">
        <span className="sr-only">Loading charts</span>
        <Skeleton className="h-72" />
        <Skeleton className="h-72" />
      </div>
    );
  }
  if (!data) return <ErrorMessage error={error} what="the readings" />;
  if (data.points.length === 0) {
    return (
      <EmptyState title={`No readings in the ${span}`}>
        <p>
          Charts fill in as readings arrive, e.g. from <Code>python simulator/simulator.py --device-id {deviceId}</Code>.
        </p>
      </EmptyState>
    );
  }

  const bucketNote = bucketSeconds > 1 ? `${bucketSeconds} s averages` : 'per-second averages';
  const loadingNote = isPlaceholderData ? ' · loading…' : '';
  return (
    <div className="grid gap-4 lg:grid-cols-2" aria-busy={isPlaceholderData}>
      <Panel
        title="Temperature"
        actions={<span className="text-xs text-slate-500 dark:text-slate-400">{bucketNote}{loadingNote}</span>}
      >
        <TimeSeriesChart
          label="Temperature"
          unit="°C"
          points={temperature}
          color="#f97316"
          threshold={threshold}
          resetKey={window}
          description={`Temperature chart of ${deviceId}, ${span}: ${rangeText(temperature, '°C')}`}
        />
      </Panel>
      <Panel
        title="Humidity"
        actions={<span className="text-xs text-slate-500 dark:text-slate-400">{bucketNote}{loadingNote}</span>}
      >
        <TimeSeriesChart
          label="Humidity"
          unit="%"
          points={humidity}
          color="#0ea5e9"
          resetKey={window}
          description={`Humidity chart of ${deviceId}, ${span}: ${rangeText(humidity, '%')}`}
        />
      </Panel>
      <p className="text-xs text-slate-500 lg:col-span-2 dark:text-slate-400">
        Drag across a chart to zoom in, Shift-drag to pan, pinch on a touch screen.
      </p>
    </div>
  );
}
