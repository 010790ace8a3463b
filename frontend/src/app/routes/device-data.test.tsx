import { screen, within } from '@testing-library/react';
import { beforeAll, describe, expect, it } from 'vitest';
import { isoAgo, sampleDeviceRule } from '@/testing/data';
import { createFakeApi } from '@/testing/fake-api';
import { renderApp } from '@/testing/render-app';

// The page is a lazy chunk with Chart.js: compile it before the first test's clock starts,
// so that a loaded machine's transform time does not count against findBy's timeout.
beforeAll(async () => {
  await import('./device');
});

const rowsOf = async (name: string) => within(await screen.findByRole('table', { name })).getAllByRole('row').slice(1);

describe('device page: alarms, rules and data access', () => {
  it('links a CSV download of the chosen window from the export endpoint', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    renderApp('/devices/device-002?window=1h');
    const link = await screen.findByRole('link', { name: 'Download CSV (last hour)' });
    expect(link).toHaveAttribute('download', 'telemetry-device-002-1h.csv');

    const href = new URL(link.getAttribute('href')!, 'http://localhost');
    expect(href.pathname).toBe('/api/telemetry/export/');
    expect(href.searchParams.get('deviceId')).toBe('device-002');
    expect(href.searchParams.get('format')).toBe('csv');
    const since = Date.parse(href.searchParams.get('since')!);
    const until = Date.parse(href.searchParams.get('until')!);
    expect(until - since).toBe(3600 * 1000);
    // The page's clock ticks once a second, so the link may be up to a second behind.
    expect(until).toBeGreaterThanOrEqual(before - 1000);
    expect(until).toBeLessThanOrEqual(Date.now());
  });

  it('shows the device’s active alarms and the rules in force, with their source', async () => {
    const api = createFakeApi();
    const rule = sampleDeviceRule('device-002');
    rule.high_temp_threshold = 28;
    rule.effective.high_temp_threshold = { value: 28, source: 'device' };
    api.state.rules['device-002'] = rule;
    renderApp('/devices/device-002', api);

    const active = await rowsOf('Active alarms of device-002');
    expect(active).toHaveLength(1);
    expect(within(active[0]).getByText('HIGH_TEMP')).toBeInTheDocument();
    expect(within(active[0]).getByText('Critical')).toBeInTheDocument();
    expect(api.requests).toContain('/api/alerts/?limit=50&deviceId=device-002&status=ACTIVE');

    const rules = await screen.findByLabelText('Alert rules of device-002');
    expect(within(rules).getByText('High temperature above').nextElementSibling).toHaveTextContent('28 °C (this device)');
    expect(within(rules).getByText('Offline after').nextElementSibling).toHaveTextContent('10 s (default)');
  });

  it('says when the device has no active alarm', async () => {
    renderApp('/devices/device-001');
    expect(await screen.findByText('No active alarms')).toBeInTheDocument();
  });

  it('lists the device’s rejected messages newest first with reason, time and a truncated payload', async () => {
    const api = createFakeApi();
    const long = `{"temperature": "${'x'.repeat(200)}"}`;
    const receivedAt = isoAgo(5);
    api.state.rejections.push(
      { received_at: receivedAt, topic: 'devices/device-002/telemetry', device_id: 'device-002', reason: 'temperature must be a number', payload: long },
    );
    renderApp('/devices/device-002', api);

    const rows = await rowsOf('Rejected messages of device-002');
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByText('temperature must be a number')).toBeInTheDocument();
    // A loaded machine may take a second or two to render: the exact time is the element's value.
    expect(within(rows[0]).getByText(/^\d+ s ago$/)).toHaveAttribute('datetime', receivedAt);
    const payload = within(rows[0]).getByText(/^\{"temperature": "x+…$/);
    expect(payload.textContent).toHaveLength(81);
    expect(payload).toHaveAttribute('title', long);
    expect(within(rows[1]).getByText('temperature out of range -100..200')).toBeInTheDocument();
    expect(within(rows[1]).getByText('{"temperature": 900}')).toBeInTheDocument();
    expect(api.requests).toContain('/api/rejections/?deviceId=device-002&limit=20');
  });

  it('says when a device has no rejected message', async () => {
    renderApp('/devices/device-003');
    expect(await screen.findByText('No rejected messages from this device')).toBeInTheDocument();
  });
});

describe('rejections page', () => {
  it('is in the navigation and lists the fleet’s latest rejections newest first', async () => {
    const api = createFakeApi();
    api.state.rejections.push({ received_at: isoAgo(1), topic: 'devices/telemetry', device_id: null, reason: 'no device id in topic', payload: '{}' });
    renderApp('/rejections', api);
    expect(screen.getByRole('link', { name: 'Rejections' })).toHaveAttribute('href', '/rejections');

    const rows = await rowsOf('Latest rejected messages');
    expect(rows).toHaveLength(3);
    expect(within(rows[0]).getByText('devices/telemetry')).toBeInTheDocument();
    expect(within(rows[1]).getByRole('link', { name: 'device-001' })).toHaveAttribute('href', '/devices/device-001');
    expect(within(rows[1]).getByText(/^invalid JSON: unexpected end of data/)).toBeInTheDocument();
    expect(within(rows[2]).getByRole('link', { name: 'device-002' })).toBeInTheDocument();
    expect(api.requests).toContain('/api/rejections/?limit=100');
  });

  it('says when nothing was rejected', async () => {
    renderApp('/rejections', createFakeApi({ rejections: [] }));
    expect(await screen.findByText('No rejected messages')).toBeInTheDocument();
  });
});
