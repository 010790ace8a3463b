import { formatDateTime, formatRelative } from '@/lib/format';
import { useNow } from '@/lib/use-now';

/** A ticking "3 s ago" whose tooltip and machine-readable value carry the exact time. */
export function RelativeTime({ value, className }: { value: string | null | undefined; className?: string }) {
  const now = useNow();
  if (!value) return <span className={className}>never</span>;
  return (
    <time dateTime={value} title={formatDateTime(value)} className={className}>
      {formatRelative(value, now)}
    </time>
  );
}
