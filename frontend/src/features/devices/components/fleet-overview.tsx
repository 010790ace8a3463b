import { useMemo, useRef } from 'react';
import { Code, EmptyState } from '@/components/ui/empty-state';
import { ErrorMessage } from '@/components/ui/error-message';
import { SegmentedControl } from '@/components/ui/segmented-control';
import { SkeletonBlock } from '@/components/ui/skeleton';
import { formatCount } from '@/lib/format';
import { useDebouncedValue } from '@/lib/use-debounced-value';
import type { DeviceWindowStats, FleetSummary } from '@/types/api';
import type { DeviceFilters } from '../api/device-filters';
import { useDevicePage } from '../api/get-device-page';
import { useFleetStats } from '../api/get-fleet-stats';
import { useFleetSummary } from '../api/get-fleet-summary';
import { useCursorStack } from '../hooks/use-cursor-stack';
import { filterDevices, type StatusFilter } from '../utils/filter-devices';
import { DeviceTable } from './device-table';
import { FleetSummaryRow } from './fleet-summary';
import { Pager } from './pager';

/** How long typing must pause before the API is asked. */
const TYPING_PAUSE_MS = 300;

interface Props {
  status: StatusFilter;
  query: string;
  deviceType: string;
  onStatusChange: (status: StatusFilter) => void;
  onQueryChange: (query: string) => void;
  onDeviceTypeChange: (deviceType: string) => void;
  onClearFilters: () => void;
  /** HIGH_TEMP threshold, to mark hot readings. */
  threshold?: number;
}

const inputClass =
  'w-full rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-slate-900 placeholder:text-slate-400 focus:border-sky-500 focus:outline-none dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100';

function SearchBox({ label, placeholder, value, onChange, width }: {
  label: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
  width: string;
}) {
  return (
    <label className="flex items-center gap-2 text-sm">
      <span className="sr-only">{label}</span>
      <input
        type="search"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        placeholder={placeholder}
        className={`${inputClass} ${width}`}
      />
    </label>
  );
}

function statusOptions(summary: FleetSummary | undefined) {
  const count = (n: number) => (summary ? ` (${formatCount(n)})` : '');
  return [
    { value: 'ALL', label: `All${count(summary?.devices ?? 0)}` },
    { value: 'ONLINE', label: `Online${count(summary?.online ?? 0)}` },
    { value: 'OFFLINE', label: `Offline${count(summary?.offline ?? 0)}` },
  ] as const;
}

/**
 * The fleet, one page at a time: totals, status, search and device type filters (asked of
 * the server), next/previous paging, and the table of the page shown, which alone is polled.
 */
export function FleetOverview({ status, query, deviceType, onStatusChange, onQueryChange, onDeviceTypeChange, onClearFilters, threshold }: Props) {
  const search = useDebouncedValue(query.trim(), TYPING_PAUSE_MS);
  const type = useDebouncedValue(deviceType.trim(), TYPING_PAUSE_MS);
  const filters: DeviceFilters = useMemo(
    () => ({ status: status === 'ALL' ? undefined : status, search: search || undefined, deviceType: type || undefined }),
    [status, search, type],
  );
  const pages = useCursorStack(JSON.stringify(filters));
  const pageQuery = useDevicePage(filters, pages.cursor);
  // The averages are asked for once the page they cover is in and has devices, not for the page before it.
  const pageHasDevices = !pageQuery.isPlaceholderData && (pageQuery.data?.items.length ?? 0) > 0;
  const statsQuery = useFleetStats('5m', filters, pages.cursor, pageHasDevices);
  const { data: summary } = useFleetSummary();

  const page = pageQuery.data;
  // A server that does not search answers every device: the same rule, in the browser.
  const visible = useMemo(() => filterDevices(page?.items ?? [], status, search), [page, status, search]);
  const averages = useMemo(() => {
    const map = new Map<string, DeviceWindowStats>();
    for (const stats of statsQuery.data ?? []) map.set(stats.device_id, stats);
    return map;
  }, [statsQuery.data]);
  const options = useMemo(() => statusOptions(summary), [summary]);
  const filtered = status !== 'ALL' || search !== '' || type !== '';

  let body;
  if (pageQuery.isPending) {
    body = <SkeletonBlock label="Loading devices" lines={6} />;
  } else if (!page) {
    body = <ErrorMessage error={pageQuery.error} what="the devices" />;
  } else if (visible.length === 0 && !filtered && pages.pageNumber === 1) {
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
          onClick={onClearFilters}
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

  const nextCursor = page?.nextCursor ?? null;
  // Another page starts at its top, with the filters in view, wherever the pager was clicked.
  const top = useRef<HTMLDivElement>(null);
  const turn = (go: () => void) => () => {
    go();
    if (top.current && top.current.getBoundingClientRect().top < 0) top.current.scrollIntoView?.({ block: 'start' });
  };
  return (
    <div ref={top} className="scroll-mt-20 space-y-4">
      {summary && <FleetSummaryRow summary={summary} />}
      <div className="flex flex-col gap-3 lg:flex-row lg:items-center lg:justify-between">
        <SegmentedControl label="Filter by status" options={options} value={status} onChange={onStatusChange} />
        <div className="flex flex-col gap-2 sm:flex-row">
          <SearchBox label="Search devices by id or name" placeholder="Search by id or name" value={query} onChange={onQueryChange} width="sm:w-64" />
          <SearchBox label="Filter by device type" placeholder="Device type" value={deviceType} onChange={onDeviceTypeChange} width="sm:w-40" />
        </div>
      </div>
      {body}
      <Pager
        pageNumber={pages.pageNumber}
        hasNext={nextCursor !== null}
        onPrevious={turn(pages.previous)}
        onNext={turn(() => nextCursor && pages.next(nextCursor))}
      />
    </div>
  );
}
