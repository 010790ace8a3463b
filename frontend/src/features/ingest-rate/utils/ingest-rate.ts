import type { IngestRateMinute } from '@/types/api';

const MINUTE_MS = 60_000;

/**
 * Readings/s of the last full minute (the one before the minute `now` is in): its
 * `stored` over 60 s, 0 when the list has no entry for it (nothing was stored).
 */
export function lastFullMinuteRate(minutes: readonly IngestRateMinute[], now: number): number {
  const start = Math.floor(now / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  const entry = minutes.find((minute) => Date.parse(minute.minute) === start);
  return entry ? entry.stored / 60 : 0;
}

/**
 * The `points` attribute of an SVG polyline drawing `stored` per minute, oldest on the
 * left, in a width × height box (the highest minute touches the top; all zero is a flat line).
 */
export function sparklinePoints(minutes: readonly IngestRateMinute[], width: number, height: number): string {
  if (minutes.length === 0) return '';
  const peak = Math.max(...minutes.map((minute) => minute.stored));
  const step = minutes.length > 1 ? width / (minutes.length - 1) : 0;
  const y = (stored: number) => (peak > 0 ? height - (stored / peak) * height : height);
  return minutes.map((minute, i) => `${round(i * step)},${round(y(minute.stored))}`).join(' ');
}

const round = (value: number) => Math.round(value * 10) / 10;
