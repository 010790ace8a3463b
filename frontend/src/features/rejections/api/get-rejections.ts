import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { apiGet } from '@/lib/api-client';
import { pollingOptions } from '@/lib/query-client';
import type { Rejection } from '@/types/api';

export interface RejectionFilters {
  deviceId?: string;
  limit?: number;
}

/** GET /api/rejections/: the latest stored rejected messages, newest first, optionally of one device. */
export function getRejections(
  { deviceId, limit = 50 }: RejectionFilters,
  { signal }: { signal?: AbortSignal } = {},
): Promise<Rejection[]> {
  return apiGet<Rejection[]>('rejections/', { deviceId, limit }, { signal });
}

export const rejectionsQueryOptions = ({ deviceId, limit = 50 }: RejectionFilters) =>
  queryOptions({
    queryKey: ['rejections', { deviceId: deviceId ?? null, limit }],
    queryFn: ({ signal }) => getRejections({ deviceId, limit }, { signal }),
    ...pollingOptions,
  });

/** Polls the latest rejected messages every 3 s. */
export function useRejections(filters: RejectionFilters) {
  return useQuery({ ...rejectionsQueryOptions(filters), placeholderData: keepPreviousData });
}
