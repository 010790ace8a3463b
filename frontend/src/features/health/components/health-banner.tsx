import { ApiError } from '@/lib/api-client';
import { formatDateTime, formatRelative } from '@/lib/format';
import { POLL_MS } from '@/lib/query-client';
import { useNow } from '@/lib/use-now';
import { useHealth } from '../api/get-health';

/**
 * A banner under the header when the API cannot be reached (the pages keep showing
 * their last data, and this says how old it is), or when ingest or worker are down.
 */
export function HealthBanner() {
  const { data, error, dataUpdatedAt } = useHealth();
  if (error) return <ApiDownBanner error={error} lastSuccessAt={data ? dataUpdatedAt : 0} />;
  if (data && (data.mqtt !== 'connected' || data.worker !== 'running')) {
    const parts = [];
    if (data.mqtt !== 'connected') parts.push('the ingest is not connected to MQTT, so no new readings arrive (start python manage.py ingest)');
    if (data.worker !== 'running') parts.push('the alert worker is stopped, so no alerts are raised (start python manage.py process_tasks)');
    return (
      <div
        role="status"
        className="border-b border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
      >
        <p className="mx-auto max-w-7xl">Degraded: {parts.join('; ')}.</p>
      </div>
    );
  }
  return null;
}

function ApiDownBanner({ error, lastSuccessAt }: { error: unknown; lastSuccessAt: number }) {
  const now = useNow();
  const dbDown = error instanceof ApiError && error.status === 503;
  const headline = dbDown ? 'The API cannot reach its database.' : 'The API cannot be reached.';
  return (
    <div
      role="alert"
      className="border-b border-red-300 bg-red-50 px-4 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
    >
      <p className="mx-auto max-w-7xl">
        <strong className="font-semibold">{headline}</strong>{' '}
        {lastSuccessAt > 0 ? (
          <>
            Showing the last data received{' '}
            <time dateTime={new Date(lastSuccessAt).toISOString()} title={formatDateTime(lastSuccessAt)}>
              {formatRelative(lastSuccessAt, now)}
            </time>
            .
          </>
        ) : (
          <>No data has been received yet.</>
        )}{' '}
        Retrying every {POLL_MS / 1000} s.
      </p>
    </div>
  );
}
