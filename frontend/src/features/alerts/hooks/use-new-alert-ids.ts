import { useEffect, useMemo, useRef, useState } from 'react';
import type { Alert } from '@/types/api';

/** How long an alert that arrived while the page was open stays highlighted. */
export const HIGHLIGHT_MS = 15_000;

/**
 * Ids of alerts that appeared in a poll after the first one, for highlighting.
 * The first result for a given scope (filter combination) is the baseline: those
 * alerts were already there and are not new. Pass undefined while the data shown
 * is a placeholder from another scope.
 */
export function useNewAlertIds(alerts: readonly Alert[] | undefined, scope: string): ReadonlySet<number> {
  const seen = useRef<{ scope: string; ids: Set<number> } | null>(null);
  const [arrivals, setArrivals] = useState<ReadonlyMap<number, number>>(new Map());

  useEffect(() => {
    if (!alerts) return;
    if (!seen.current || seen.current.scope !== scope) {
      seen.current = { scope, ids: new Set(alerts.map((alert) => alert.id)) };
      setArrivals(new Map());
      return;
    }
    const known = seen.current.ids;
    const fresh = alerts.filter((alert) => !known.has(alert.id));
    if (fresh.length === 0) return;
    const now = Date.now();
    for (const alert of fresh) known.add(alert.id);
    setArrivals((previous) => {
      const next = new Map(previous);
      for (const alert of fresh) next.set(alert.id, now);
      return next;
    });
  }, [alerts, scope]);

  // Drop each highlight once it has been shown for HIGHLIGHT_MS.
  useEffect(() => {
    if (arrivals.size === 0) return;
    const oldest = Math.min(...arrivals.values());
    const timer = setTimeout(
      () => {
        const cutoff = Date.now() - HIGHLIGHT_MS;
        setArrivals((previous) => new Map([...previous].filter(([, at]) => at > cutoff)));
      },
      Math.max(0, oldest + HIGHLIGHT_MS - Date.now()),
    );
    return () => clearTimeout(timer);
  }, [arrivals]);

  return useMemo(() => new Set(arrivals.keys()), [arrivals]);
}
