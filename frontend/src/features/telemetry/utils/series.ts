import type { SeriesPoint } from '@/types/api';

export interface ChartPoint {
  x: number;
  y: number | null;
}

type Metric = 'temperature' | 'humidity';

/**
 * Chart points for one metric from the series endpoint's buckets (oldest first).
 * Empty buckets are omitted by the API, so where two buckets are further apart
 * than a silence worth showing (a few buckets, and at least `minGapSeconds`, by
 * default the OFFLINE delay) a null point is put in: the line breaks instead of
 * drawing a straight bridge across it. A single dropped message is bridged.
 */
export function toChartPoints(
  points: readonly SeriesPoint[],
  metric: Metric,
  bucketSeconds: number,
  minGapSeconds = 10,
): ChartPoint[] {
  const out: ChartPoint[] = [];
  const maxGapMs = Math.max(bucketSeconds * 2.5, minGapSeconds) * 1000;
  let previous: number | undefined;
  for (const point of points) {
    const x = Date.parse(point.ts);
    if (Number.isNaN(x)) continue;
    if (previous !== undefined && x - previous > maxGapMs) out.push({ x: previous + bucketSeconds * 1000, y: null });
    out.push({ x, y: point[metric] ?? null });
    previous = x;
  }
  return out;
}

/** Lowest, highest and newest value among chart points (nulls skipped). */
export function summarize(points: readonly ChartPoint[]): { min: number; max: number; latest: number } | null {
  let min = Infinity;
  let max = -Infinity;
  let latest: number | null = null;
  for (const { y } of points) {
    if (y === null) continue;
    if (y < min) min = y;
    if (y > max) max = y;
    latest = y;
  }
  return latest === null ? null : { min, max, latest };
}
