import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { createFakeApi } from '@/testing/fake-api';
import { isoAgo, makeDevice } from '@/testing/data';
import { renderApp } from '@/testing/render-app';

const deviceRows = () =>
  screen.getAllByRole('row').filter((row) => within(row).queryByRole('link') !== null);

describe('fleet overview', () => {
  it('shows each device with status, latest reading and 5 min average', async () => {
    renderApp('/');
    const row = await screen.findByRole('row', { name: /device-001/ });
    expect(within(row).getByText('ONLINE')).toBeInTheDocument();
    expect(within(row).getByText('26.3 °C')).toBeInTheDocument();
    expect(within(row).getByText('47.9 %')).toBeInTheDocument();
    expect(within(row).getByText('25.9 °C')).toBeInTheDocument();
    expect(within(row).getByText('Lab bench · Building A')).toBeInTheDocument();
    expect(within(row).getByRole('link', { name: 'device-001' })).toHaveAttribute('href', '/devices/device-001');

    const offline = screen.getByRole('row', { name: /device-003/ });
    expect(within(offline).getByText('OFFLINE')).toBeInTheDocument();
    expect(within(offline).getAllByText('1 min ago').length).toBeGreaterThan(0);
  });

  it('shows online and offline counts', async () => {
    renderApp('/');
    const counts = await screen.findByRole('group', { name: 'Filter by status' });
    await within(counts).findByRole('button', { name: 'Online (2)' });
    expect(within(counts).getByRole('button', { name: 'Offline (1)' })).toBeInTheDocument();
    expect(within(counts).getByRole('button', { name: 'All (3)' })).toHaveAttribute('aria-pressed', 'true');
  });

  it('marks a reading above the threshold', async () => {
    renderApp('/');
    const row = await screen.findByRole('row', { name: /device-002/ });
    await waitFor(() => expect(within(row).getByText('31.4 °C')).toHaveClass('text-red-600'));
  });

  it('filters by status', async () => {
    const user = userEvent.setup();
    renderApp('/');
    await screen.findByRole('row', { name: /device-001/ });
    await user.click(screen.getByRole('button', { name: /^Offline/ }));
    expect(screen.getByRole('button', { name: /^Offline/ })).toHaveAttribute('aria-pressed', 'true');
    await waitFor(() => expect(deviceRows()).toHaveLength(1));
    expect(screen.getByRole('row', { name: /device-003/ })).toBeInTheDocument();
    expect(screen.queryByRole('row', { name: /device-001/ })).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: /^Online/ }));
    await waitFor(() => expect(deviceRows()).toHaveLength(2));
    expect(screen.queryByRole('row', { name: /device-003/ })).not.toBeInTheDocument();
  });

  it('takes the status filter from the URL', async () => {
    renderApp('/?status=offline');
    await screen.findByRole('row', { name: /device-003/ });
    expect(deviceRows()).toHaveLength(1);
  });

  it('searches by id or name prefix on the server', async () => {
    const user = userEvent.setup();
    const { api } = renderApp('/');
    await screen.findByRole('row', { name: /device-001/ });
    await user.type(screen.getByRole('searchbox', { name: /search devices/i }), 'lab');
    await waitFor(() => expect(deviceRows()).toHaveLength(1));
    expect(screen.getByRole('row', { name: /device-001/ })).toBeInTheDocument();
    expect(api.requests).toContain('/api/devices/?limit=50&search=lab');

    await user.clear(screen.getByRole('searchbox', { name: /search devices/i }));
    await user.type(screen.getByRole('searchbox', { name: /search devices/i }), 'nothing-like-this');
    expect(await screen.findByText('No devices match')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Clear the filters' }));
    await waitFor(() => expect(deviceRows()).toHaveLength(3));
  });

  it('filters by device type on the server, kept in the URL', async () => {
    const api = createFakeApi();
    api.state.devices[2] = { ...api.state.devices[2], device_type: 'th-2' };
    const user = userEvent.setup();
    const { router } = renderApp('/', api);
    await screen.findByRole('row', { name: /device-001/ });
    await user.type(screen.getByRole('searchbox', { name: 'Filter by device type' }), 'th-2');
    await waitFor(() => expect(deviceRows()).toHaveLength(1));
    expect(screen.getByRole('row', { name: /device-003/ })).toBeInTheDocument();
    expect(api.requests).toContain('/api/devices/?limit=50&device_type=th-2');
    expect(router.state.location.search).toBe('?type=th-2');
  });

  it('tells a new user how to start a device when there is none', async () => {
    renderApp('/', createFakeApi({ devices: [], fleetStats: [] }));
    expect(await screen.findByText('No devices yet')).toBeInTheDocument();
    expect(screen.getByText('python simulator/simulator.py')).toBeInTheDocument();
  });

  it('shows a loading skeleton before the first answer', () => {
    renderApp('/');
    expect(screen.getByText('Loading devices').closest('[role="status"]')).toBeInTheDocument();
  });

  it('asks for one page of 50 at a time and pages forward and back by cursor', { timeout: 30_000 }, async () => {
    const devices = Array.from({ length: 120 }, (_, i) =>
      makeDevice({ device_id: `device-${String(i + 1).padStart(4, '0')}`, status: i % 10 === 0 ? 'OFFLINE' : 'ONLINE' }),
    );
    const api = createFakeApi({ devices, fleetStats: [] });
    const user = userEvent.setup();
    renderApp('/', api);
    await screen.findByRole('row', { name: /device-0001/ });
    expect(screen.getByRole('table', { name: 'Devices' })).toHaveAttribute('aria-rowcount', '51');
    expect(screen.getByRole('button', { name: 'Previous' })).toBeDisabled();

    await user.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByRole('row', { name: /device-0051/ });
    expect(screen.queryByRole('row', { name: /device-0001/ })).not.toBeInTheDocument();
    expect(screen.getByText('Page 2')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByRole('row', { name: /device-0120/ });
    expect(screen.getByRole('table', { name: 'Devices' })).toHaveAttribute('aria-rowcount', '21');
    expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled();

    await user.click(screen.getByRole('button', { name: 'Previous' }));
    await screen.findByRole('row', { name: /device-0051/ });
    await user.click(screen.getByRole('button', { name: 'Previous' }));
    await screen.findByRole('row', { name: /device-0001/ });
    expect(screen.getByText('Page 1')).toBeInTheDocument();

    // A new filter starts again at the first page.
    await user.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByRole('row', { name: /device-0051/ });
    await user.click(screen.getByRole('button', { name: /^Offline/ }));
    await screen.findByRole('row', { name: /device-0001/ });
    expect(deviceRows()).toHaveLength(12);
    expect(screen.queryByRole('navigation', { name: 'Pages of devices' })).not.toBeInTheDocument();
  });

  it('asks the averages of a page with the page\'s own filters and cursor, in one request', { timeout: 30_000 }, async () => {
    const devices = Array.from({ length: 120 }, (_, i) =>
      makeDevice({ device_id: `device-${String(i + 1).padStart(4, '0')}`, status: i % 10 === 0 ? 'OFFLINE' : 'ONLINE' }),
    );
    const fleetStats = devices.map((d, i) => ({ device_id: d.device_id, avg_temperature: 20 + i / 10, avg_humidity: 40, data_points: 10 }));
    const api = createFakeApi({ devices, fleetStats });
    const user = userEvent.setup();
    renderApp('/?status=offline', api);
    const last = await screen.findByRole('row', { name: /device-0111/ });
    expect(deviceRows()).toHaveLength(12);
    await waitFor(() => expect(within(last).getByText('31.0 °C')).toBeInTheDocument());
    const asked = api.requests.filter((r) => r.startsWith('/api/stats/fleet/'));
    expect(asked).toHaveLength(1);
    expect(new URL(asked[0], 'http://x').searchParams.get('status')).toBe('OFFLINE');

    await user.click(screen.getByRole('button', { name: /^All/ }));
    await screen.findByRole('row', { name: /device-0002/ });
    const before = api.requests.length;
    await user.click(screen.getByRole('button', { name: 'Next' }));
    const row = await screen.findByRole('row', { name: /device-0051/ });
    await waitFor(() => expect(within(row).getByText('25.0 °C')).toBeInTheDocument());
    const next = api.requests.slice(before).filter((r) => r.startsWith('/api/stats/fleet/'));
    expect(next).toHaveLength(1);
    expect(new URL(next[0], 'http://x').searchParams.get('cursor')).toBe(btoa('device-0050'));
  });

  it('shows the fleet totals from the summary, not from the page', async () => {
    const devices = Array.from({ length: 120 }, (_, i) =>
      makeDevice({ device_id: `device-${String(i + 1).padStart(4, '0')}`, status: i % 4 === 0 ? 'OFFLINE' : 'ONLINE' }),
    );
    renderApp('/', createFakeApi({ devices }));
    const summary = await screen.findByLabelText('Fleet totals');
    expect(within(summary).getByText('Devices').nextSibling).toHaveTextContent('120');
    expect(within(summary).getByText('Online').nextSibling).toHaveTextContent('90');
    expect(within(summary).getByText('Offline').nextSibling).toHaveTextContent('30');
    expect(within(summary).getByText('Active alerts').nextSibling).toHaveTextContent('2');
    expect(screen.getByRole('button', { name: 'Online (90)' })).toBeInTheDocument();
  });

  it('works against a server without paging: no summary, one page, search in the browser', async () => {
    const api = createFakeApi({ paging: false });
    const user = userEvent.setup();
    renderApp('/', api);
    await screen.findByRole('row', { name: /device-001/ });
    expect(deviceRows()).toHaveLength(3);
    await waitFor(() => expect(api.requests).toContain('/api/stats/summary/'));
    expect(screen.queryByLabelText('Fleet totals')).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'All' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.queryByRole('navigation', { name: 'Pages of devices' })).not.toBeInTheDocument();

    await user.type(screen.getByRole('searchbox', { name: /search devices/i }), 'device-002');
    await waitFor(() => expect(deviceRows()).toHaveLength(1));
  });

  it('polls only the page shown: one request for it, one for its averages, one for the totals', async () => {
    const devices = Array.from({ length: 1000 }, (_, i) =>
      makeDevice({
        device_id: `device-${String(i + 1).padStart(4, '0')}`,
        status: i % 10 === 0 ? 'OFFLINE' : 'ONLINE',
        last_seen: isoAgo(i % 60),
      }),
    );
    const api = createFakeApi({ devices });
    renderApp('/', api);
    await screen.findByRole('row', { name: /device-0001/ });
    expect(screen.getByRole('button', { name: 'Online (900)' })).toBeInTheDocument();
    expect(screen.getByRole('table', { name: 'Devices' })).toHaveAttribute('aria-rowcount', '51');

    // The header's health, alarm count and ingest rate are one request each whatever the fleet size.
    // On a loaded machine the test can outlast the 3 s poll: count per poll, not in total.
    const header = ['/api/health/', '/api/config/', '/api/alerts/', '/api/stats/ingest-rate/'];
    await waitFor(() => {
      const apiCalls = api.requests.filter((r) => !header.some((prefix) => r.startsWith(prefix)));
      const polls = apiCalls.filter((r) => r === '/api/devices/?limit=50').length;
      expect(polls).toBeGreaterThanOrEqual(1);
      expect(apiCalls.sort()).toEqual([
        ...Array(polls).fill('/api/devices/?limit=50'),
        ...Array(polls).fill('/api/stats/fleet/?window=5m&limit=50'),
        ...Array(polls).fill('/api/stats/summary/'),
      ]);
    });
  });
});
