import { useDeferredValue, useMemo } from 'react';
import { Code, EmptyState } from '@/components/ui/empty-state';
import { ErrorMessage } from '@/components/ui/error-message';
import { SegmentedControl } from '@/components/ui/segmented-control';
import { SkeletonBlock } from '@/components/ui/skeleton';
import { formatCount } from '@/lib/format';
import type { DeviceWindowStats } from '@/types/api';
import { useDevices } from '../api/get-devices';
import { useFleetStats } from '../api/get-fleet-stats';
import { countByStatus, filterDevices, type StatusFilter } from '../utils/filter-devices';
import { DeviceTable } from './device-table';

interface Props {
  status: StatusFilter;
  query: string;
  onStatusChange: (status: StatusFilter) => void;
  onQueryChange: (query: string) => void;
  /** HIGH_TEMP threshold, to mark hot readings. */
  threshold?: number;
}

function Count({ label, value, tone }: { label: string; value: number; tone: string }) {
  return (
    <div className="rounded-xl border border-slate-200 bg-white px-4 py-3 shadow-sm dark:border-slate-700 dark:bg-slate-900">
      <dt className="text-xs font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400">{label}</dt>
      <dd className={`text-2xl font-semibold tabular-nums ${tone}`}>{formatCount(value)}</dd>
    </div>
  );
}

/** The fleet overview: counts, status filter, search and the device table. */
export function FleetOverview({ status, query, onStatusChange, onQueryChange, threshold }: Props) {
  const devicesQuery = useDevices();
  const statsQuery = useFleetStats('5m');
  const devices = devicesQuery.data;

  const counts = useMemo(() => countByStatus(devices ?? []), [devices]);
  // Typing stays responsive with a large fleet: the table catches up a frame later.
  const deferredQuery = useDeferredValue(query);
  const visible = useMemo(() => filterDevices(devices ?? [], status, deferredQuery), [devices, status, deferredQuery]);
  const averages = useMemo(() => {
    const map = new Map<string, DeviceWindowStats>();
    for (const stats of statsQuery.data ?? []) map.set(stats.device_id, stats);
    return map;
  }, [statsQuery.data]);

  const statusOptions = useMemo(
    () =>
      [
        { value: 'ALL', label: `All (${formatCount(counts.total)})` },
        { value: 'ONLINE', label: `Online (${formatCount(counts.online)})` },
        { value: 'OFFLINE', label: `Offline (${formatCount(counts.offline)})` },
      ] as const,
    [counts],
  );

  let body;
  if (devicesQuery.isPending) {
    body = <SkeletonBlock label="Loading devices" lines={6} />;
  } else if (!devices) {
    body = <ErrorMessage error={devicesQuery.error} what="the devices" />;
  } else if (devices.length === 0) {
    body = (
      <EmptyState title="No devices yet">
        <p>
          Run <Code>python simulator/simulator.py</Code> (or <Code>--devices 3</Code> for a small fleet) and the
          devices appear here within a few seconds.
        </p>
        <p className="mt-1">Readings are stored only while the ingest runs: <Code>python manage.py ingest</Code>.</p>
      </EmptyState>
    );
  } else if (visible.length === 0) {
    body = (
      <EmptyState title="No devices match">
        <button
          type="button"
          onClick={() => {
            onStatusChange('ALL');
            onQueryChange('');
          }}
          className="text-sky-700 underline dark:text-sky-400"
        >
          Clear the filters
        </button>
      </EmptyState>
    );
  } else {
    body = (
      <>
        <p className="text-xs text-slate-500 sm:hidden dark:text-slate-400">
          Each reading shows the latest value above its 5 min average.
        </p>
        <DeviceTable devices={visible} averages={averages} threshold={threshold} />
      </>
    );
  }

  return (
    <div className="space-y-4">
      <dl aria-label="Fleet counts" className="grid grid-cols-3 gap-3">
        <Count label="Devices" value={counts.total} tone="text-slate-900 dark:text-slate-100" />
        <Count label="Online" value={counts.online} tone="text-emerald-600 dark:text-emerald-400" />
        <Count label="Offline" value={counts.offline} tone="text-slate-600 dark:text-slate-300" />
      </dl>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
        <SegmentedControl label="Filter by status" options={statusOptions} value={status} onChange={onStatusChange} />
        <label className="flex items-center gap-2 text-sm">
          <span className="sr-only">Search devices by id or name</span>
          <input
            type="search"
            value={query}
            onChange={(event) => onQueryChange(event.target.value)}
            placeholder="Search by id or name"
            className="w-full rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-slate-900 placeholder:text-slate-400 focus:border-sky-500 focus:outline-none sm:w-72 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100"
          />
        </label>
      </div>
      {devices && visible.length > 0 && (query || status !== 'ALL') && (
        <p className="text-sm text-slate-600 dark:text-slate-400" aria-live="polite">
          Showing {formatCount(visible.length)} of {formatCount(devices.length)} devices.
        </p>
      )}
      {body}
    </div>
  );
}
