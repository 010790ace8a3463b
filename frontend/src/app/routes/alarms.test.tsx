import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeApi } from '@/testing/fake-api';
import { renderApp } from '@/testing/render-app';

const bodyRows = async () => {
  const table = await screen.findByRole('table', { name: 'Recent alerts' });
  return within(table).getAllByRole('row').slice(1);
};
const rowOf = async (deviceId: string) =>
  (await bodyRows()).find((row) => within(row).queryByRole('link', { name: deviceId }))!;

const signIn = (token: string) => {
  document.cookie = `csrftoken=${token}; path=/`;
};

afterEach(() => {
  document.cookie = 'csrftoken=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT';
});

describe('alarms on the alerts page', () => {
  it('names each severity in words, not by colour alone', async () => {
    renderApp('/alerts');
    expect(within(await rowOf('device-002')).getByText('Critical')).toHaveAttribute('data-severity', 'critical');
    expect(within(await rowOf('device-001')).getByText('Info')).toHaveAttribute('data-severity', 'info');
  });

  it('filters by status with the Active and Cleared tabs, kept in the URL', async () => {
    const user = userEvent.setup();
    const { api, router } = renderApp('/alerts');
    expect(await bodyRows()).toHaveLength(3);
    expect(screen.getByRole('tab', { name: 'All' })).toHaveAttribute('aria-selected', 'true');

    await user.click(screen.getByRole('tab', { name: 'Active' }));
    await waitFor(async () => expect(await bodyRows()).toHaveLength(2));
    expect(screen.getByRole('tab', { name: 'Active' })).toHaveAttribute('aria-selected', 'true');
    expect((await bodyRows()).every((row) => within(row).getByText('Active'))).toBe(true);
    expect(api.requests).toContain('/api/alerts/?limit=100&status=ACTIVE');
    expect(router.state.location.search).toBe('?status=active');

    await user.click(screen.getByRole('tab', { name: 'Cleared' }));
    await waitFor(async () => expect(await bodyRows()).toHaveLength(1));
    expect(within((await bodyRows())[0]).getByRole('link', { name: 'device-001' })).toBeInTheDocument();
  });

  it('opens on the Active tab from the URL', async () => {
    renderApp('/alerts?status=active');
    expect(await screen.findByRole('tab', { name: 'Active' })).toHaveAttribute('aria-selected', 'true');
    await waitFor(async () => expect(await bodyRows()).toHaveLength(2));
  });

  it('acknowledges an alert for a signed-in staff user and shows who did', async () => {
    const user = userEvent.setup();
    const api = createFakeApi({ staffUser: 'operator', csrfToken: 'token-1' });
    signIn('token-1');
    renderApp('/alerts', api);
    const row = await rowOf('device-002');
    await user.click(within(row).getByRole('button', { name: 'Acknowledge alert 2' }));

    expect(await within(await rowOf('device-002')).findByText(/Acknowledged by/)).toHaveTextContent(
      /^Acknowledged by operator (just now|\d s ago)$/,
    );
    expect(api.requests).toContain('POST /api/alerts/2/acknowledge/');
    expect(within(await rowOf('device-002')).queryByRole('button', { name: /Acknowledge/ })).not.toBeInTheDocument();
    // The other ACTIVE alert still waits for someone.
    expect(within(await rowOf('device-003')).getByRole('button', { name: 'Acknowledge alert 3' })).toBeInTheDocument();
  });

  it('tells a visitor who is not staff where to sign in, and changes nothing', async () => {
    const user = userEvent.setup();
    const api = createFakeApi({ staffUser: null });
    renderApp('/alerts', api);
    await user.click(within(await rowOf('device-002')).getByRole('button', { name: 'Acknowledge alert 2' }));

    const message = await within(await rowOf('device-002')).findByRole('alert');
    expect(message).toHaveTextContent('Sign in as staff at /admin/ to acknowledge.');
    expect(within(message).getByRole('link', { name: '/admin/' })).toHaveAttribute(
      'href',
      '/admin/login/?next=%2Falerts',
    );
    expect(api.state.alerts.find((a) => a.id === 2)!.acknowledged_at).toBeNull();
  });

  it('shows an alert acknowledged earlier with its acknowledger', async () => {
    const api = createFakeApi();
    const alert = api.state.alerts.find((a) => a.id === 3)!;
    alert.acknowledged_at = new Date(Date.now() - 120_000).toISOString();
    alert.acknowledged_by = 'alice';
    renderApp('/alerts', api);
    expect(within(await rowOf('device-003')).getByText(/Acknowledged by/)).toHaveTextContent(
      'Acknowledged by alice 2 min ago',
    );
  });
});

describe('header alarm count', () => {
  it('counts ACTIVE critical alerts nobody acknowledged, and links to the Active tab', async () => {
    const { api, client } = renderApp('/');
    const count = await screen.findByRole('link', { name: '2 unacknowledged critical alarms' });
    expect(count).toHaveAttribute('href', '/alerts?status=active');
    expect(api.requests).toContain('/api/alerts/?limit=100&status=ACTIVE&acknowledged=false&severity=critical');

    const alert = api.state.alerts.find((a) => a.id === 2)!;
    alert.acknowledged_at = new Date().toISOString();
    alert.acknowledged_by = 'operator';
    await act(() => client.refetchQueries({ queryKey: ['alerts'] }));
    expect(await screen.findByRole('link', { name: '1 unacknowledged critical alarm' })).toBeInTheDocument();

    api.state.alerts = api.state.alerts.filter((a) => a.id !== 3);
    await act(() => client.refetchQueries({ queryKey: ['alerts'] }));
    expect(await screen.findByRole('link', { name: '0 unacknowledged critical alarms' })).toBeInTheDocument();
  });
});
