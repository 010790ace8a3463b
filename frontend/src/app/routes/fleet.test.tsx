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

  it('searches by id', async () => {
    const user = userEvent.setup();
    renderApp('/');
    await screen.findByRole('row', { name: /device-001/ });
    await user.type(screen.getByRole('searchbox', { name: /search devices/i }), '002');
    await waitFor(() => expect(deviceRows()).toHaveLength(1));
    expect(screen.getByRole('row', { name: /device-002/ })).toBeInTheDocument();
    expect(screen.getByText('Showing 1 of 3 devices.')).toBeInTheDocument();

    await user.clear(screen.getByRole('searchbox', { name: /search devices/i }));
    await user.type(screen.getByRole('searchbox', { name: /search devices/i }), 'nothing-like-this');
    expect(await screen.findByText('No devices match')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Clear the filters' }));
    await waitFor(() => expect(deviceRows()).toHaveLength(3));
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

  it('handles 1,000 devices with two requests per poll and only the visible rows in the DOM', async () => {
    const devices = Array.from({ length: 1000 }, (_, i) =>
      makeDevice({
        device_id: `device-${String(i + 1).padStart(4, '0')}`,
        status: i % 10 === 0 ? 'OFFLINE' : 'ONLINE',
        last_seen: isoAgo(i % 60),
      }),
    );
    const api = createFakeApi({ devices });
    const user = userEvent.setup();
    renderApp('/', api);
    await screen.findByRole('row', { name: /device-0001/ });
    expect(screen.getByRole('button', { name: 'Online (900)' })).toBeInTheDocument();
    expect(deviceRows().length).toBeLessThan(60);
    expect(screen.getByRole('table', { name: 'Devices' })).toHaveAttribute('aria-rowcount', '1001');

    await user.type(screen.getByRole('searchbox', { name: /search devices/i }), 'device-0750');
    expect(await screen.findByRole('row', { name: /device-0750/ })).toBeInTheDocument();

    // The header's health and alarm count are one request each whatever the fleet size.
    // On a loaded machine the test can outlast the 3 s poll: count per poll, not in total,
    // waiting for a poll that has started to send both of its requests.
    const header = ['/api/health/', '/api/config/', '/api/alerts/'];
    await waitFor(() => {
      const apiCalls = api.requests.filter((r) => !header.some((prefix) => r.startsWith(prefix)));
      const polls = apiCalls.filter((r) => r === '/api/devices/').length;
      expect(polls).toBeGreaterThanOrEqual(1);
      expect(apiCalls.sort()).toEqual([
        ...Array(polls).fill('/api/devices/'),
        ...Array(polls).fill('/api/stats/fleet/?window=5m'),
      ]);
    });
  });
});
