import type { Severity } from '@/types/api';

// The word is always written out, so the colour is never the only sign.
const styles: Record<Severity, { className: string; label: string; mark: string }> = {
  critical: { className: 'bg-red-600 text-white dark:bg-red-500 dark:text-red-950', label: 'Critical', mark: '!!' },
  warning: { className: 'bg-amber-300 text-amber-950 dark:bg-amber-400 dark:text-amber-950', label: 'Warning', mark: '!' },
  info: { className: 'bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100', label: 'Info', mark: 'i' },
};

/** An alert's severity as a coloured label with its name on it. */
export function SeverityBadge({ severity }: { severity: Severity }) {
  const style = styles[severity] ?? styles.info;
  return (
    <span
      data-severity={severity}
      className={`inline-flex items-center gap-1 rounded px-1.5 py-0.5 text-xs font-semibold ${style.className}`}
    >
      <span aria-hidden="true" className="font-mono">{style.mark}</span>
      {style.label}
    </span>
  );
}
