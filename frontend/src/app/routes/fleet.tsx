import { useCallback } from 'react';
import { useSearchParams } from 'react-router';
import { useConfig } from '@/features/config/api/get-config';
import { FleetOverview } from '@/features/devices/components/fleet-overview';
import { RegisterDevice } from '@/features/devices/components/register-device';
import { parseStatusFilter, type StatusFilter } from '@/features/devices/utils/filter-devices';

/** Home page: the fleet a page at a time; filters live in the URL (?status=online&q=boiler&type=th-2). */
export function FleetPage() {
  const [params, setParams] = useSearchParams();
  const status = parseStatusFilter(params.get('status'));
  const query = params.get('q') ?? '';
  const deviceType = params.get('type') ?? '';
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
  const onDeviceTypeChange = useCallback((value: string) => update('type', value), [update]);
  // One update: several in a row would each start from the same, older search params.
  const onClearFilters = useCallback(() => setParams(new URLSearchParams(), { replace: true }), [setParams]);

  return (
    <>
      <title>Fleet · Telemetry</title>
      <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-bold">Fleet</h1>
        {config?.user?.is_staff && <RegisterDevice />}
      </div>
      <FleetOverview
        status={status}
        query={query}
        deviceType={deviceType}
        onStatusChange={onStatusChange}
        onQueryChange={onQueryChange}
        onDeviceTypeChange={onDeviceTypeChange}
        onClearFilters={onClearFilters}
        threshold={config?.high_temp_threshold}
      />
    </>
  );
}
