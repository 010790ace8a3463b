import type { ReactNode } from 'react';
import { DataTable, DeviceLink, TimeCell } from '@/components/ui/data-table';
import { ErrorMessage } from '@/components/ui/error-message';
import { SkeletonBlock } from '@/components/ui/skeleton';
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
      <TimeCell value={rejection.received_at} />
      {showDevice && (
        <td className="px-3 py-2">
          {rejection.device_id ? (
            <DeviceLink deviceId={rejection.device_id} />
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
    <DataTable label={label} columns={['Received', showDevice && 'Device', 'Reason', 'Payload']}>
      {data.map((rejection, index) => (
        <RejectionRow key={`${rejection.received_at}-${index}`} rejection={rejection} showDevice={showDevice} />
      ))}
    </DataTable>
  );
}
