/** Pure formatting helpers for times and readings. */

/** "just now", "3 s ago", "4 min ago", "2 h ago", "3 d ago" for a past instant. */
export function formatRelative(from: string | number | Date | null | undefined, now: number): string {
  if (from === null || from === undefined) return 'never';
  const then = typeof from === 'number' ? from : new Date(from).getTime();
  if (Number.isNaN(then)) return 'unknown';
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** A metric with one decimal and its unit, or an en dash when there is none. */
export function formatMetric(value: number | null | undefined, unit: '°C' | '%'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return `${value.toFixed(1)} ${unit}`;
}

/** Local date and time to the second, e.g. "2024-10-09 14:03:45". */
export function formatDateTime(value: string | number | Date): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return 'unknown time';
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** "1,234" with the user's grouping. */
export function formatCount(value: number): string {
  return value.toLocaleString();
}
