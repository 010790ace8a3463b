import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { createFakeApi } from '@/testing/fake-api';
import { renderApp } from '@/testing/render-app';

/** The last 60 minutes ending with the current one, `stored` given per minute from the oldest. */
function lastHour(stored: (index: number) => number) {
  const current = Math.floor(Date.now() / 60_000) * 60_000;
  return Array.from({ length: 60 }, (_, i) => ({
    minute: new Date(current - (59 - i) * 60_000).toISOString().replace('.000Z', 'Z'),
    stored: stored(i),
  }));
}

describe('header ingest rate', () => {
  it('draws the last hour as a sparkline with readings/s of the last full minute', async () => {
    // Minute 58 is the last full one (59 is still filling): 1,230 readings in it is 20.5/s.
    const api = createFakeApi({ ingestRate: lastHour((i) => (i === 58 ? 1230 : i === 59 ? 7 : 600)) });
    renderApp('/', api);
    const sparkline = await screen.findByRole('img', { name: 'Readings stored per minute, last 60 minutes' });
    expect(sparkline.querySelector('polyline')?.getAttribute('points')?.split(' ')).toHaveLength(60);
    expect(screen.getByText('21')).toBeInTheDocument();
    expect(screen.getByText(/readings\/s/)).toBeInTheDocument();
  });

  it('is hidden, without an error, on a server that lacks the endpoint', async () => {
    const api = createFakeApi({ ingestRate: null });
    renderApp('/', api);
    await screen.findByRole('row', { name: /device-001/ });
    await waitFor(() => expect(api.requests).toContain('/api/stats/ingest-rate/'));
    expect(screen.queryByRole('img', { name: /Readings stored per minute/ })).not.toBeInTheDocument();
    expect(screen.queryByText(/readings\/s/)).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
