import { useLocation } from 'react-router';
import { RelativeTime } from '@/components/ui/relative-time';
import { ApiError, describeError } from '@/lib/api-client';
import { formatDateTime } from '@/lib/format';
import type { Alert } from '@/types/api';
import { useAcknowledgeAlert } from '../api/acknowledge-alert';

/** Who acknowledged an alert and when, or a button to acknowledge it. */
export function Acknowledgement({ alert }: { alert: Alert }) {
  const { mutate, isPending, error } = useAcknowledgeAlert();
  const location = useLocation();
  if (alert.acknowledged_at) {
    return (
      <span className="text-xs text-slate-700 dark:text-slate-300" title={formatDateTime(alert.acknowledged_at)}>
        Acknowledged by <span className="font-semibold">{alert.acknowledged_by ?? 'unknown'}</span>{' '}
        <RelativeTime value={alert.acknowledged_at} />
      </span>
    );
  }
  // The button is for everyone: the API's 403 is where a visitor learns to sign in as staff.
  const forbidden = error instanceof ApiError && (error.status === 401 || error.status === 403);
  return (
    <div className="flex flex-col items-start gap-1">
      <button
        type="button"
        onClick={() => mutate(alert.id)}
        disabled={isPending}
        aria-label={`Acknowledge alert ${alert.id}`}
        className="rounded-md border border-slate-300 px-2 py-0.5 text-xs font-medium text-slate-800 hover:bg-slate-100 disabled:opacity-50 dark:border-slate-600 dark:text-slate-100 dark:hover:bg-slate-800"
      >
        {isPending ? 'Acknowledging…' : 'Acknowledge'}
      </button>
      {error && (
        <p role="alert" className="text-xs text-red-700 dark:text-red-300">
          {forbidden ? (
            <>
              Sign in as staff at{' '}
              <a href={`/admin/login/?next=${encodeURIComponent(location.pathname + location.search)}`} className="underline">
                /admin/
              </a>{' '}
              to acknowledge.
            </>
          ) : (
            describeError(error)
          )}
        </p>
      )}
    </div>
  );
}
