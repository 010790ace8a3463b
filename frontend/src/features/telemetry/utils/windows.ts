import type { SeriesWindow } from '@/types/api';

/** The windows the device page offers, with their labels. */
export const WINDOWS: readonly { value: SeriesWindow; label: string; long: string }[] = [
  { value: '5m', label: '5 min', long: 'last 5 minutes' },
  { value: '1h', label: '1 hour', long: 'last hour' },
  { value: '24h', label: '24 hours', long: 'last 24 hours' },
];

/** Parses ?window= from the URL; anything unknown means 5 minutes. */
export function parseWindow(value: string | null | undefined): SeriesWindow {
  return WINDOWS.some((w) => w.value === value) ? (value as SeriesWindow) : '5m';
}

/** "last 5 minutes" for a window. */
export function describeWindow(window: SeriesWindow): string {
  return WINDOWS.find((w) => w.value === window)?.long ?? window;
}
