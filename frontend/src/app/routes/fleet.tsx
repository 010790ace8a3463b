import { useCallback } from 'react';
import { useSearchParams } from 'react-router';
import { useConfig } from '@/features/config/api/get-config';
import { FleetOverview } from '@/features/devices/components/fleet-overview';
import { parseStatusFilter, type StatusFilter } from '@/features/devices/utils/filter-devices';

/** Home page: the whole fleet; filters live in the URL (?status=online&q=boiler). */
export function FleetPage() {
  const [params, setParams] = useSearchParams();
  const status = parseStatusFilter(params.get('status'));
  const query = params.get('q') ?? '';
  const { data: config } = useConfig();

  const update = useCallback(
    (key: string, value: string) =>
      setParams(
        (previous) => {
          const next = new URLSearchParams(previous);
          if (value) next.set(key, value);
          else next.delete(key);
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  const onStatusChange = useCallback(
    (value: StatusFilter) => update('status', value === 'ALL' ? '' : value.toLowerCase()),
    [update],
  );
  const onQueryChange = useCallback((value: string) => update('q', value), [update]);

  return (
    <>
      <title>Fleet · Telemetry</title>
      <h1 className="mb-4 text-2xl font-bold">Fleet</h1>
      <FleetOverview
        status={status}
        query={query}
        onStatusChange={onStatusChange}
        onQueryChange={onQueryChange}
        threshold={config?.high_temp_threshold}
      />
    </>
  );
}
