import { Code, EmptyState } from '@/components/ui/empty-state';
import { RejectionsView } from '@/features/rejections/components/rejections-view';

/** The fleet's latest rejected messages, newest first: why readings are missing. */
export function RejectionsPage() {
  return (
    <div className="space-y-4">
      <title>Rejected messages · Telemetry</title>
      <h1 className="text-2xl font-bold">Rejected messages</h1>
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Messages the ingest refused, with the reason: the readings a device sent that are not stored.
      </p>
      <RejectionsView
        limit={100}
        label="Latest rejected messages"
        empty={
          <EmptyState title="No rejected messages">
            <p>
              Every message the ingest received was valid (rejections are kept for a limited time; see{' '}
              <Code>GET /api/rejections/</Code>).
            </p>
          </EmptyState>
        }
      />
    </div>
  );
}
