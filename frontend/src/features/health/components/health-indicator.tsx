import { ApiError } from '@/lib/api-client';
import type { Health } from '@/types/api';
import { useHealth } from '../api/get-health';

type Tone = 'ok' | 'warn' | 'bad' | 'unknown';

const dotClass: Record<Tone, string> = {
  ok: 'bg-emerald-500',
  warn: 'bg-amber-500',
  bad: 'bg-red-500',
  unknown: 'bg-slate-400',
};

function Item({ label, value, tone, hint }: { label: string; value: string; tone: Tone; hint: string }) {
  return (
    <li title={hint} className="flex items-center gap-1.5 whitespace-nowrap">
      <span aria-hidden="true" className={`inline-block h-2 w-2 rounded-full ${dotClass[tone]}`} />
      <span className="text-slate-500 dark:text-slate-400">{label}</span>
      <span className="font-medium text-slate-800 dark:text-slate-100">{value}</span>
    </li>
  );
}

function apiItem(health: Health | undefined, error: unknown, isPending: boolean) {
  if (error instanceof ApiError && error.status === 503) {
    return { value: 'database down', tone: 'bad' as const, hint: 'The API answers but cannot reach its database.' };
  }
  if (error) return { value: 'unreachable', tone: 'bad' as const, hint: 'The API does not answer.' };
  if (isPending || !health) return { value: 'checking', tone: 'unknown' as const, hint: 'Asking /api/health/.' };
  switch (health.status) {
    case 'healthy':
      return { value: 'healthy', tone: 'ok' as const, hint: 'API and database are up.' };
    case 'degraded':
      return { value: 'degraded', tone: 'warn' as const, hint: 'The API is up but the ingest or the worker is not.' };
    case 'unhealthy':
      // The API sends it with its 503 (handled above); read it the same way wherever it comes from.
      return { value: 'database down', tone: 'bad' as const, hint: 'The API answers but cannot reach its database.' };
    default: {
      const unknown: never = health.status;
      return { value: String(unknown), tone: 'unknown' as const, hint: 'A status this dashboard does not know.' };
    }
  }
}

/** API, MQTT ingest and worker status for the header, from /api/health/. */
export function HealthIndicator() {
  const { data, error, isPending } = useHealth();
  const api = apiItem(data, error, isPending);
  // After a failed poll the last known ingest/worker state may be stale: say so.
  const known = data && !error;
  return (
    <ul aria-label="System health" className="flex flex-wrap items-center gap-x-4 gap-y-1 text-xs sm:text-sm">
      <Item label="API" {...api} />
      <Item
        label="MQTT"
        value={known ? data.mqtt : 'unknown'}
        tone={known ? (data.mqtt === 'connected' ? 'ok' : 'bad') : 'unknown'}
        hint="Whether the ingest (python manage.py ingest) is connected to the broker."
      />
      <Item
        label="Worker"
        value={known ? data.worker : 'unknown'}
        tone={known ? (data.worker === 'running' ? 'ok' : 'bad') : 'unknown'}
        hint="Whether the alert worker (python manage.py process_tasks) is running."
      />
    </ul>
  );
}
