import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { Code, EmptyState } from '@/components/ui/empty-state';
import { ErrorMessage } from '@/components/ui/error-message';
import { RelativeTime } from '@/components/ui/relative-time';
import { Skeleton } from '@/components/ui/skeleton';
import { ApiError } from '@/lib/api-client';
import { formatMetric } from '@/lib/format';
import type { Device } from '@/types/api';
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

function Facts({ device, threshold }: { device: Device; threshold?: number }) {
  const temperature = device.latest?.temperature;
  const hot = threshold !== undefined && temperature != null && temperature > threshold;
  return (
    <dl className="grid grid-cols-2 gap-4 sm:grid-cols-3">
      <Fact label="Last seen">
        <RelativeTime value={device.last_seen} />
      </Fact>
      <Fact label="Temperature">
        <span className={hot ? 'text-red-600 dark:text-red-400' : undefined}>{formatMetric(temperature, '°C')}</span>
      </Fact>
      <Fact label="Humidity">{formatMetric(device.latest?.humidity, '%')}</Fact>
    </dl>
  );
}

/** A device's heading: id, name, status, last seen and latest reading. */
export function DeviceSummary({ deviceId, threshold }: { deviceId: string; threshold?: number }) {
  const { data: device, error, isPending } = useDevice(deviceId);
  const notFound = !device && error instanceof ApiError && error.status === 404;
  const meta = device ? [device.name, device.device_type, device.location].filter(Boolean).join(' · ') : '';

  let body;
  if (isPending) {
    body = (
      <div role="status">
        <span className="sr-only">Loading device</span>
        <Skeleton className="h-14 w-full" />
      </div>
    );
  } else if (device) {
    body = <Facts device={device} threshold={threshold} />;
  } else if (notFound) {
    body = (
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
    );
  } else {
    body = <ErrorMessage error={error} what={`device ${deviceId}`} />;
  }

  // The heading stays the same element through loading, so nothing jumps.
  return (
    <div className="space-y-3">
      <div className="flex min-h-8 flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold break-all text-slate-900 dark:text-slate-100">{deviceId}</h1>
        {device && <StatusBadge status={device.status} />}
      </div>
      {meta && <p className="text-sm text-slate-600 dark:text-slate-400">{meta}</p>}
      {body}
    </div>
  );
}
