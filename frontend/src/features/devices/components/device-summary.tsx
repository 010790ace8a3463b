import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { Code, EmptyState } from '@/components/ui/empty-state';
import { ErrorMessage } from '@/components/ui/error-message';
import { RelativeTime } from '@/components/ui/relative-time';
import { Skeleton } from '@/components/ui/skeleton';
import { ApiError } from '@/lib/api-client';
import { formatMetric } from '@/lib/format';
import { useDevice } from '../api/get-device';
import { StatusBadge } from './status-badge';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt className="text-xs font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400">{label}</dt>
      <dd className="text-lg font-semibold text-slate-900 tabular-nums dark:text-slate-100">{children}</dd>
    </div>
  );
}

/** A device's heading: id, name, status, last seen and latest reading. */
export function DeviceSummary({ deviceId, threshold }: { deviceId: string; threshold?: number }) {
  const { data: device, error, isPending } = useDevice(deviceId);

  if (isPending) {
    return (
      <div role="status" className="space-y-2">
        <span className="sr-only">Loading device</span>
        <h1 className="text-2xl font-bold text-slate-900 dark:text-slate-100">{deviceId}</h1>
        <Skeleton className="h-16 w-full" />
      </div>
    );
  }
  if (!device) {
    if (error instanceof ApiError && error.status === 404) {
      return (
        <div className="space-y-4">
          <h1 className="text-2xl font-bold text-slate-900 dark:text-slate-100">{deviceId}</h1>
          <EmptyState title={`No device called “${deviceId}”`}>
            <p>
              A device appears once it has sent a reading, e.g.{' '}
              <Code>python simulator/simulator.py --device-id {deviceId}</Code>.
            </p>
            <p className="mt-2">
              <Link to="/" className="text-sky-700 underline dark:text-sky-400">
                Back to the fleet
              </Link>
            </p>
          </EmptyState>
        </div>
      );
    }
    return <ErrorMessage error={error} what={`device ${deviceId}`} />;
  }

  const temperature = device.latest?.temperature;
  const hot = threshold !== undefined && temperature != null && temperature > threshold;
  const meta = [device.name, device.device_type, device.location].filter(Boolean).join(' · ');
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold break-all text-slate-900 dark:text-slate-100">{device.device_id}</h1>
        <StatusBadge status={device.status} />
      </div>
      {meta && <p className="text-sm text-slate-600 dark:text-slate-400">{meta}</p>}
      <dl className="grid grid-cols-2 gap-4 sm:grid-cols-3">
        <Fact label="Last seen">
          <RelativeTime value={device.last_seen} />
        </Fact>
        <Fact label="Temperature">
          <span className={hot ? 'text-red-600 dark:text-red-400' : undefined}>{formatMetric(temperature, '°C')}</span>
        </Fact>
        <Fact label="Humidity">{formatMetric(device.latest?.humidity, '%')}</Fact>
      </dl>
    </div>
  );
}
