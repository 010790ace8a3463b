import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ErrorMessage } from '@/components/ui/error-message';
import { RelativeTime } from '@/components/ui/relative-time';
import { SkeletonBlock } from '@/components/ui/skeleton';
import { formatDateTime } from '@/lib/format';
import type { Rejection } from '@/types/api';
import { useRejections } from '../api/get-rejections';

/** How much of a payload a row shows; the API stores up to 1,000 characters. */
export const PAYLOAD_PREVIEW = 80;

/** A payload cut to PAYLOAD_PREVIEW characters, with an ellipsis when it was longer. */
export function truncatePayload(payload: string): string {
  return payload.length > PAYLOAD_PREVIEW ? `${payload.slice(0, PAYLOAD_PREVIEW)}…` : payload;
}

function RejectionRow({ rejection, showDevice }: { rejection: Rejection; showDevice: boolean }) {
  return (
    <tr className="border-b border-slate-100 align-top dark:border-slate-800">
      <td className="px-3 py-2 whitespace-nowrap">
        <RelativeTime value={rejection.received_at} />
        <div className="hidden text-xs text-slate-500 sm:block dark:text-slate-400">
          {formatDateTime(rejection.received_at)}
        </div>
      </td>
      {showDevice && (
        <td className="px-3 py-2">
          {rejection.device_id ? (
            <Link
              to={`/devices/${encodeURIComponent(rejection.device_id)}`}
              className="font-medium whitespace-nowrap text-sky-700 hover:underline dark:text-sky-400"
            >
              {rejection.device_id}
            </Link>
          ) : (
            <span className="font-mono text-xs text-slate-600 dark:text-slate-400">{rejection.topic}</span>
          )}
        </td>
      )}
      <td className="px-3 py-2 text-slate-800 dark:text-slate-200">{rejection.reason}</td>
      <td className="px-3 py-2">
        <code title={rejection.payload} className="font-mono text-xs break-all text-slate-700 dark:text-slate-300">
          {truncatePayload(rejection.payload)}
        </code>
      </td>
    </tr>
  );
}

/** Polls the latest rejected messages (of one device, or the fleet) and lists them newest first. */
export function RejectionsView({
  deviceId,
  limit = 50,
  label,
  empty,
}: {
  deviceId?: string;
  limit?: number;
  label: string;
  empty: ReactNode;
}) {
  const { data, error, isPending } = useRejections({ deviceId, limit });
  if (isPending) return <SkeletonBlock label="Loading rejected messages" lines={3} />;
  if (!data) return <ErrorMessage error={error} what="the rejected messages" />;
  if (data.length === 0) return <>{empty}</>;
  const showDevice = deviceId === undefined;
  return (
    <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-700 dark:bg-slate-900">
      <table aria-label={label} className="w-full text-left text-sm">
        <thead className="bg-slate-50 text-xs tracking-wide text-slate-500 uppercase dark:bg-slate-800 dark:text-slate-400">
          <tr>
            <th scope="col" className="px-3 py-2 font-semibold">Received</th>
            {showDevice && <th scope="col" className="px-3 py-2 font-semibold">Device</th>}
            <th scope="col" className="px-3 py-2 font-semibold">Reason</th>
            <th scope="col" className="px-3 py-2 font-semibold">Payload</th>
          </tr>
        </thead>
        <tbody>
          {data.map((rejection, index) => (
            <RejectionRow key={`${rejection.received_at}-${index}`} rejection={rejection} showDevice={showDevice} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
