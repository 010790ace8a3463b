import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiPost } from '@/lib/api-client';
import type { Alert } from '@/types/api';

/** POST /api/alerts/{id}/acknowledge/: a staff user takes note of an alert; answers the alert. */
export function acknowledgeAlert(id: number): Promise<Alert> {
  return apiPost<Alert>(`alerts/${id}/acknowledge/`);
}

/** Acknowledges an alert, then refreshes every alert list (and the header's count). */
export function useAcknowledgeAlert() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: acknowledgeAlert,
    onSuccess: () => client.invalidateQueries({ queryKey: ['alerts'] }),
  });
}
