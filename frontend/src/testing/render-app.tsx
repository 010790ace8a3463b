import { render } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { vi } from 'vitest';
import { AppProvider } from '@/app/provider';
import { routes } from '@/app/router';
import { createQueryClient } from '@/lib/query-client';
import { createFakeApi, type FakeApi } from './fake-api';

/** Renders the whole app at a URL against a fake API; returns the API and the query cache. */
export function renderApp(path: string, api: FakeApi = createFakeApi()) {
  vi.stubGlobal('fetch', api.fetch);
  const client = createQueryClient({ queries: { retry: false, gcTime: Infinity } });
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const view = render(
    <AppProvider client={client}>
      <RouterProvider router={router} />
    </AppProvider>,
  );
  return { ...view, api, client, router };
}
