import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { isoAgo, unacknowledged } from '@/testing/data';
import { createFakeApi } from '@/testing/fake-api';
import { renderApp } from '@/testing/render-app';

const bodyRows = async () => {
  const table = await screen.findByRole('table', { name: 'Recent alerts' });
  return within(table).getAllByRole('row').slice(1);
};

/** The ids a device box suggests (its datalist's options). */
const suggestions = (input: HTMLElement) =>
  [...(document.getElementById(input.getAttribute('list') ?? '')?.querySelectorAll('option') ?? [])].map((o) => o.value);

/** The alerts page with its alerts loaded, and its device box. */
async function openDeviceBox(path = '/alerts', fake = createFakeApi()) {
  const user = userEvent.setup();
  renderApp(path, fake);
  await bodyRows();
  return { user, api: fake, device: screen.getByRole('combobox', { name: 'Device' }) };
}

/** Types into the device box and waits for the server's suggestions for that prefix. */
async function suggest(user: ReturnType<typeof userEvent.setup>, device: HTMLElement, api: { requests: string[] }, text: string) {
  await user.type(device, text);
  await waitFor(() => expect(api.requests).toContain(`/api/devices/?search=${text}&limit=20`));
}

describe('alerts page', () => {
  it('lists alerts newest first with their details in words', async () => {
    renderApp('/alerts');
    const rows = await bodyRows();
    expect(rows.map((row) => within(row).getByRole('link').textContent)).toEqual(['device-003', 'device-002', 'device-001']);
    expect(within(rows[1]).getByText('HIGH_TEMP')).toBeInTheDocument();
    expect(within(rows[1]).getByText('31.4 °C, above the 30.0 °C threshold')).toBeInTheDocument();
    expect(within(rows[0]).getByText(/^Silent since/)).toBeInTheDocument();
  });

  it('filters by type', async () => {
    const user = userEvent.setup();
    const { api } = renderApp('/alerts');
    await bodyRows();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Type' }), 'HIGH_TEMP');
    await waitFor(async () => expect(await bodyRows()).toHaveLength(1));
    expect(within((await bodyRows())[0]).getByText('device-002')).toBeInTheDocument();
    expect(api.requests).toContain('/api/alerts/?limit=100&alert_type=HIGH_TEMP');
  });

  it('filters by a device found by the server\'s prefix search, never listing the whole fleet', async () => {
    const { user, api, device } = await openDeviceBox();
    await suggest(user, device, api, 'device-00');
    await waitFor(() => expect(suggestions(device)).toEqual(['device-001', 'device-002', 'device-003']));
    // A suggestion typed out (or picked, which types it) is chosen at once.
    await user.type(device, '3');
    await waitFor(async () => expect(await bodyRows()).toHaveLength(1));
    expect(within((await bodyRows())[0]).getByText('OFFLINE')).toBeInTheDocument();
    expect(api.requests).toContain('/api/alerts/?limit=100&deviceId=device-003');
    expect(api.requests.filter((r) => r.startsWith('/api/devices/') && !r.includes('limit='))).toEqual([]);

    // An empty box is every device again.
    await user.clear(device);
    await waitFor(async () => expect(await bodyRows()).toHaveLength(3));
  });

  it('searches devices by name too, and Enter chooses what is typed', async () => {
    const { user, api, device } = await openDeviceBox();
    await suggest(user, device, api, 'lab');
    await waitFor(() => expect(suggestions(device)).toEqual(['device-001']));
    await user.clear(device);
    await user.type(device, 'device-002{Enter}');
    await waitFor(async () => expect(await bodyRows()).toHaveLength(1));
    expect(within((await bodyRows())[0]).getByText('HIGH_TEMP')).toBeInTheDocument();
  });

  it('takes the device from the URL, and leaving an unfinished id shows the device chosen', async () => {
    const { user, device } = await openDeviceBox('/alerts?device=device-002');
    await waitFor(async () => expect(await bodyRows()).toHaveLength(1));
    expect(device).toHaveValue('device-002');
    await user.type(device, '{Backspace}');
    await user.tab();
    expect(device).toHaveValue('device-002');
    expect(await bodyRows()).toHaveLength(1);
  });

  it('offers the same suggestions from a server that does not search', async () => {
    const { user, device } = await openDeviceBox('/alerts', createFakeApi({ paging: false }));
    await user.type(device, 'device-002');
    await waitFor(async () => expect(await bodyRows()).toHaveLength(1));
    await waitFor(() => expect(suggestions(device)).toEqual(['device-002']));
  });

  it('says when no alert matches the filters', async () => {
    renderApp('/alerts?device=device-001&type=HIGH_TEMP');
    expect(await screen.findByText('No alerts match these filters')).toBeInTheDocument();
  });

  it('highlights alerts that arrive while the page is open', async () => {
    const { api, client } = renderApp('/alerts');
    const before = await bodyRows();
    expect(before.some((row) => within(row).queryByText('New'))).toBe(false);

    api.state.alerts = [
      { id: 4, device_id: 'device-001', alert_type: 'HIGH_TEMP', ts: isoAgo(0), payload: { temperature: 30.7, threshold: 30 },
        severity: 'critical', status: 'ACTIVE', ...unacknowledged },
      ...api.state.alerts,
    ];
    await act(() => client.refetchQueries({ queryKey: ['alerts'] }));
    await waitFor(async () => expect(await bodyRows()).toHaveLength(4));
    const [first, ...rest] = await bodyRows();
    expect(within(first).getByText('New')).toBeInTheDocument();
    expect(first).toHaveAttribute('data-new', 'true');
    expect(rest.every((row) => !within(row).queryByText('New'))).toBe(true);
  });

  it('tells a new user what raises alerts when there is none', async () => {
    renderApp('/alerts', createFakeApi({ alerts: [] }));
    expect(await screen.findByText('No alerts yet')).toBeInTheDocument();
    expect(screen.getByText(/above 30 °C/)).toBeInTheDocument();
  });
});
