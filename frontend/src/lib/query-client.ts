import { QueryClient, type DefaultOptions } from '@tanstack/react-query';
import { ApiError } from './api-client';

/** How often every live view polls the API. */
export const POLL_MS = 3000;

/** Shared polling options for live queries: every 3 s, paused while the tab is hidden. */
export const pollingOptions = {
  refetchInterval: POLL_MS,
  refetchIntervalInBackground: false,
} as const;

const defaultOptions: DefaultOptions = {
  queries: {
    refetchIntervalInBackground: false,
    refetchOnWindowFocus: true,
    // Polling retries soon anyway; a 4xx will not get better by asking again.
    retry: (failureCount, error) =>
      failureCount < 1 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    retryDelay: 1000,
    staleTime: 1000,
  },
};

/** Creates the app's QueryClient; tests pass overrides (no retries). */
export function createQueryClient(overrides: DefaultOptions = {}): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { ...defaultOptions.queries, ...overrides.queries },
      mutations: { ...defaultOptions.mutations, ...overrides.mutations },
    },
  });
}
