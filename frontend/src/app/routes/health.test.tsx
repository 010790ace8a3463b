import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { sampleHealth } from '@/testing/data';
import { createFakeApi } from '@/testing/fake-api';
import { renderApp } from '@/testing/render-app';

describe('health in the header', () => {
  it('shows API, MQTT and worker status', async () => {
    renderApp('/');
    const health = screen.getByRole('list', { name: 'System health' });
    expect(await within(health).findByText('healthy')).toBeInTheDocument();
    expect(within(health).getByText('connected')).toBeInTheDocument();
    expect(within(health).getByText('running')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('keeps the last data and says how old it is when the API stops answering', async () => {
    const { api, client } = renderApp('/');
    await screen.findByRole('row', { name: /device-001/ });
    await within(screen.getByRole('list', { name: 'System health' })).findByText('healthy');

    api.state.unreachable = true;
    await act(() => client.refetchQueries());

    const banner = await screen.findByRole('alert');
    expect(banner).toHaveTextContent('The API cannot be reached.');
    expect(banner).toHaveTextContent(/Showing the last data received (just now|\d+ s ago)/);
    expect(within(screen.getByRole('list', { name: 'System health' })).getByText('unreachable')).toBeInTheDocument();
    // The fleet is still there.
    expect(screen.getByRole('row', { name: /device-001/ })).toBeInTheDocument();
    expect(screen.getByRole('row', { name: /device-003/ })).toBeInTheDocument();

    api.state.unreachable = false;
    await act(() => client.refetchQueries());
    await waitFor(() => expect(screen.queryByRole('alert')).not.toBeInTheDocument());
  });

  it('explains an API that was never reached, in words', async () => {
    renderApp('/', createFakeApi({ unreachable: true }));
    const banner = await screen.findByText(/No data has been received yet/);
    expect(banner.closest('[role="alert"]')).toHaveTextContent('The API cannot be reached.');
    expect(await screen.findByText('Could not load the devices.')).toBeInTheDocument();
    expect(screen.getByText(/Is the Django server \(python manage.py runserver\) running\?/)).toBeInTheDocument();
  });

  it('says when the database is down (503)', async () => {
    renderApp('/', createFakeApi({ databaseDown: true }));
    expect(await screen.findByText('The API cannot reach its database.')).toBeInTheDocument();
    expect(within(screen.getByRole('list', { name: 'System health' })).getByText('database down')).toBeInTheDocument();
  });

  it('reads an unhealthy status as a database that is down', async () => {
    renderApp('/', createFakeApi({ health: sampleHealth({ status: 'unhealthy', database: 'disconnected' }) }));
    expect(await within(screen.getByRole('list', { name: 'System health' })).findByText('database down')).toBeInTheDocument();
  });

  it('warns when the ingest or the worker is down', async () => {
    renderApp('/', createFakeApi({ health: sampleHealth({ status: 'degraded', mqtt: 'disconnected', worker: 'stopped' }) }));
    expect(await screen.findByText(/^Degraded: the ingest is not connected to MQTT/)).toBeInTheDocument();
    const health = screen.getByRole('list', { name: 'System health' });
    expect(within(health).getByText('degraded')).toBeInTheDocument();
    expect(within(health).getByText('disconnected')).toBeInTheDocument();
    expect(within(health).getByText('stopped')).toBeInTheDocument();
  });
});
