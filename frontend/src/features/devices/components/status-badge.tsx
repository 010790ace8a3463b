import type { DeviceStatus } from '@/types/api';

/** ONLINE/OFFLINE as a coloured badge that reads the same without colour. */
export function StatusBadge({ status }: { status: DeviceStatus }) {
  const online = status === 'ONLINE';
  return (
    <span
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-semibold tracking-wide ${
        online
          ? 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200'
          : 'bg-slate-200 text-slate-700 dark:bg-slate-700 dark:text-slate-200'
      }`}
    >
      <span aria-hidden="true" className={`h-1.5 w-1.5 rounded-full ${online ? 'bg-emerald-500' : 'bg-slate-500'}`} />
      {status}
    </span>
  );
}
