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

  it('filters by device', async () => {
    const user = userEvent.setup();
    renderApp('/alerts');
    await bodyRows();
    const device = screen.getByRole('combobox', { name: 'Device' });
    await within(device).findByRole('option', { name: 'device-003' });
    await user.selectOptions(device, 'device-003');
    await waitFor(async () => expect(await bodyRows()).toHaveLength(1));
    expect(within((await bodyRows())[0]).getByText('OFFLINE')).toBeInTheDocument();
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
