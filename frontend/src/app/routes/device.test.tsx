import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderedCharts } from '@/testing/chart-mock';
import { sampleSeries } from '@/testing/data';
import { createFakeApi } from '@/testing/fake-api';
import { renderApp } from '@/testing/render-app';

// The page is a lazy chunk with Chart.js: compile it before the first test's clock starts,
// so that a loaded machine's transform time does not count against findBy's timeout.
beforeAll(async () => {
  await import('./device');
});

describe('device page', () => {
  it('shows the device, its window stats, both charts and its alerts', async () => {
    renderApp('/devices/device-002');
    expect(await screen.findByRole('heading', { level: 1, name: 'device-002' })).toBeInTheDocument();
    expect(await screen.findByText('ONLINE')).toBeInTheDocument();

    const temperature = await screen.findByRole('img', { name: /^Temperature chart of device-002, last 5 minutes/ });
    expect(temperature.tagName).toBe('CANVAS');
    expect(temperature).toHaveAttribute('data-points', '60');
    expect(screen.getByRole('img', { name: /^Humidity chart of device-002/ })).toBeInTheDocument();

    const stats = await screen.findByLabelText('Stats for the last 5 minutes');
    expect(within(stats).getByText('30.6 °C')).toBeInTheDocument();
    expect(within(stats).getByText('288')).toBeInTheDocument();

    const alerts = await screen.findByRole('table', { name: 'Recent alerts of device-002' });
    expect(within(alerts).getByText('HIGH_TEMP')).toBeInTheDocument();
    expect(within(alerts).getAllByRole('row')).toHaveLength(2);
  });

  it('draws the threshold from /api/config/ on the temperature chart only', async () => {
    const api = createFakeApi();
    api.state.config = { high_temp_threshold: 28.5, offline_after_seconds: 10 };
    renderApp('/devices/device-001', api);
    const canvas = await screen.findByRole('img', { name: /^Temperature chart/ });
    await waitFor(() => {
      const options = renderedCharts.get(canvas.getAttribute('aria-label')!)!.options;
      expect(options.plugins?.annotation?.annotations).toMatchObject({ threshold: { yMin: 28.5, yMax: 28.5 } });
    });
    const humidity = screen.getByRole('img', { name: /^Humidity chart/ });
    expect(renderedCharts.get(humidity.getAttribute('aria-label')!)!.options.plugins?.annotation?.annotations).toEqual({});
    // Redraws on poll must not animate (no flicker).
    expect(renderedCharts.get(canvas.getAttribute('aria-label')!)!.options.animation).toBe(false);
  });

  it('asks the bucketed series endpoint for the chosen window', async () => {
    const user = userEvent.setup();
    const { api } = renderApp('/devices/device-001');
    await screen.findByRole('img', { name: /^Temperature chart/ });
    expect(api.requests).toContain('/api/telemetry/series/?deviceId=device-001&window=5m&points=300');

    await user.click(screen.getByRole('button', { name: '1 hour' }));
    expect(screen.getByRole('button', { name: '1 hour' })).toHaveAttribute('aria-pressed', 'true');
    expect(await screen.findByRole('img', { name: /^Temperature chart of device-001, last hour/ })).toBeInTheDocument();
    expect(api.requests).toContain('/api/telemetry/series/?deviceId=device-001&window=1h&points=300');
    expect(api.requests).toContain('/api/stats/avg/?deviceId=device-001&window=1h');
    expect(api.requests.some((r) => r.startsWith('/api/telemetry/?'))).toBe(false);
  });

  it('updates the charts in place when a poll brings new points', async () => {
    const { api, client } = renderApp('/devices/device-001');
    const canvas = await screen.findByRole('img', { name: /^Temperature chart/ });
    expect(canvas).toHaveAttribute('data-points', '60');

    api.state.series['device-001'] = sampleSeries('device-001', '5m', 61);
    await act(() => client.refetchQueries({ queryKey: ['telemetry'] }));
    await waitFor(() => expect(screen.getByRole('img', { name: /^Temperature chart/ })).toHaveAttribute('data-points', '61'));
    expect(screen.getByRole('img', { name: /^Temperature chart/ })).toBe(canvas);
  });

  it('says when the window has no readings', async () => {
    const api = createFakeApi();
    api.state.series['device-003'] = { device_id: 'device-003', window: '5m', bucket_seconds: 1, points: [] };
    renderApp('/devices/device-003', api);
    expect(await screen.findByText('No readings in the last 5 minutes')).toBeInTheDocument();
  });

  it('explains an unknown device', async () => {
    renderApp('/devices/nope-9');
    expect(await screen.findByText('No device called “nope-9”')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Back to the fleet' })).toHaveAttribute('href', '/');
  });

  it('is reached by clicking a device on the fleet page', async () => {
    const user = userEvent.setup();
    renderApp('/');
    await user.click(await screen.findByRole('link', { name: 'device-001' }));
    // The device page is a lazily loaded chunk: the first import can take a moment.
    expect(await screen.findByRole('heading', { level: 1, name: 'device-001' }, { timeout: 5000 })).toBeInTheDocument();
    expect(await screen.findByRole('img', { name: /^Temperature chart/ })).toBeInTheDocument();
  });
});
