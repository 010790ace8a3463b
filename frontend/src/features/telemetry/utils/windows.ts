import type { SeriesWindow } from '@/types/api';

/** The windows the device page offers, with their labels. */
export const WINDOWS: readonly { value: SeriesWindow; label: string; long: string; seconds: number }[] = [
  { value: '5m', label: '5 min', long: 'last 5 minutes', seconds: 300 },
  { value: '1h', label: '1 hour', long: 'last hour', seconds: 3600 },
  { value: '24h', label: '24 hours', long: 'last 24 hours', seconds: 86_400 },
];

/** Parses ?window= from the URL; anything unknown means 5 minutes. */
export function parseWindow(value: string | null | undefined): SeriesWindow {
  return WINDOWS.some((w) => w.value === value) ? (value as SeriesWindow) : '5m';
}

/** "last 5 minutes" for a window. */
export function describeWindow(window: SeriesWindow): string {
  return WINDOWS.find((w) => w.value === window)?.long ?? window;
}

/** The window's length in seconds. */
export function windowSeconds(window: SeriesWindow): number {
  return WINDOWS.find((w) => w.value === window)?.seconds ?? 300;
}
