import type { AlertStatus } from '@/types/api';

const TABS: readonly { value: AlertStatus | undefined; label: string }[] = [
  { value: 'ACTIVE', label: 'Active' },
  { value: 'CLEARED', label: 'Cleared' },
  { value: undefined, label: 'All' },
];

/** Parses ?status= from the URL into an alert status, or undefined for all. */
export function parseAlertStatus(value: string | null | undefined): AlertStatus | undefined {
  const upper = (value ?? '').toUpperCase();
  return upper === 'ACTIVE' || upper === 'CLEARED' ? upper : undefined;
}

/** Active / Cleared / All tabs over the alerts list. */
export function AlertStatusTabs({ value, onChange }: { value: AlertStatus | undefined; onChange: (value: AlertStatus | undefined) => void }) {
  return (
    <div role="tablist" aria-label="Alert status" className="flex gap-1 border-b border-slate-200 dark:border-slate-700">
      {TABS.map((tab) => {
        const selected = tab.value === value;
        return (
          <button
            key={tab.label}
            type="button"
            role="tab"
            aria-selected={selected}
            onClick={() => onChange(tab.value)}
            className={`-mb-px border-b-2 px-3 py-1.5 text-sm font-medium ${
              selected
                ? 'border-sky-600 text-sky-700 dark:border-sky-400 dark:text-sky-300'
                : 'border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100'
            }`}
          >
            {tab.label}
          </button>
        );
      })}
    </div>
  );
}
