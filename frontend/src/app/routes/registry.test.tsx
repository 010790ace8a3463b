import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeApi } from '@/testing/fake-api';
import { renderApp } from '@/testing/render-app';

const staffApi = () => createFakeApi({ staffUser: 'operator', csrfToken: 'token-1' });

beforeEach(() => {
  document.cookie = 'csrftoken=token-1; path=/';
});
afterEach(() => {
  document.cookie = 'csrftoken=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT';
});

async function openRegisterForm(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByRole('button', { name: 'Register a device' }));
  return screen.getByRole('form', { name: 'Register a device' });
}

describe('device registry', () => {
  it('offers no registry tools to a visitor who is not staff', async () => {
    const { client } = renderApp('/');
    await screen.findByRole('row', { name: /device-001/ });
    await waitFor(() => expect(client.getQueryData(['config'])).toMatchObject({ user: null }));
    expect(screen.queryByRole('button', { name: 'Register a device' })).not.toBeInTheDocument();
  });

  it('offers no device tools to a visitor who is not staff', async () => {
    const { client } = renderApp('/devices/device-001');
    await screen.findByRole('heading', { level: 1, name: 'device-001' });
    await waitFor(() => expect(client.getQueryData(['config'])).toMatchObject({ user: null }));
    expect(screen.queryByRole('button', { name: 'Decommission' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Rotate key' })).not.toBeInTheDocument();
  });

  it('registers a device and shows its key once, with a copy button, curl and simulator commands', async () => {
    const user = userEvent.setup();
    const api = staffApi();
    renderApp('/', api);
    const form = await openRegisterForm(user);
    await user.type(within(form).getByLabelText('Device id'), 'boiler-7');
    await user.type(within(form).getByLabelText('Name'), 'Boiler room');
    await user.type(within(form).getByLabelText('Device type'), 'th-2');
    await user.clear(within(form).getByLabelText('Metadata (JSON object)'));
    await user.type(within(form).getByLabelText('Metadata (JSON object)'), '{{"floor": -1}');
    await user.click(within(form).getByRole('button', { name: 'Register' }));

    const key = api.state.apiKeys['boiler-7'];
    const credentials = await screen.findByRole('region', { name: 'API key of boiler-7' });
    expect(within(credentials).getByText(key)).toBeInTheDocument();
    expect(api.state.devices.find((d) => d.device_id === 'boiler-7')).toMatchObject({
      name: 'Boiler room', device_type: 'th-2', metadata: { floor: -1 },
    });
    const origin = window.location.origin;
    expect(
      within(credentials).getByText(
        `curl -X POST ${origin}/api/devices/boiler-7/telemetry/ -H 'X-API-Key: ${key}' -H 'Content-Type: application/json' -d '{"temperature": 24.5, "humidity": 41}'`,
      ),
    ).toBeInTheDocument();
    expect(
      within(credentials).getByText(`python simulator/simulator.py --device-id boiler-7 --http ${origin} --api-key ${key}`),
    ).toBeInTheDocument();
    expect(within(credentials).getByText(/--username boiler-7 --password /)).toBeInTheDocument();

    await user.click(within(credentials).getByRole('button', { name: 'Copy api key' }));
    expect(await navigator.clipboard.readText()).toBe(key);
    expect(within(credentials).getByRole('button', { name: 'Copy api key' })).toHaveTextContent('Copied');

    // The key is gone once dismissed, and the new device is in the fleet.
    await user.click(within(credentials).getByRole('button', { name: /^Done/ }));
    expect(screen.queryByText(key)).not.toBeInTheDocument();
    expect(await screen.findByRole('row', { name: /boiler-7/ })).toBeInTheDocument();
  });

  it('shows a 400 on the field it names, a bad metadata box before sending, and a taken id as 409', async () => {
    const user = userEvent.setup();
    const api = staffApi();
    renderApp('/', api);
    const form = await openRegisterForm(user);
    const id = within(form).getByLabelText('Device id');
    await user.type(id, 'boiler 8');
    await user.click(within(form).getByRole('button', { name: 'Register' }));
    expect(await within(form).findByRole('alert')).toHaveTextContent('not a valid device id');
    expect(id).toHaveAttribute('aria-invalid', 'true');

    await user.clear(id);
    await user.type(id, 'boiler-8');
    await user.clear(within(form).getByLabelText('Metadata (JSON object)'));
    await user.type(within(form).getByLabelText('Metadata (JSON object)'), '[[1]');
    const sent = api.requests.length;
    await user.click(within(form).getByRole('button', { name: 'Register' }));
    expect(await within(form).findByRole('alert')).toHaveTextContent('must be a JSON object');
    expect(within(form).getByLabelText('Metadata (JSON object)')).toHaveAttribute('aria-invalid', 'true');
    expect(api.requests.slice(sent).filter((r) => r.startsWith('POST'))).toEqual([]);

    await user.clear(within(form).getByLabelText('Metadata (JSON object)'));
    await user.clear(id);
    await user.type(id, 'device-001');
    await user.click(within(form).getByRole('button', { name: 'Register' }));
    expect(await within(form).findByRole('alert')).toHaveTextContent("id taken: device 'device-001' is registered already");
    expect(id).toHaveAttribute('aria-invalid', 'true');
  });

  it('edits a device on its page', async () => {
    const user = userEvent.setup();
    const api = staffApi();
    renderApp('/devices/device-001', api);
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    const form = screen.getByRole('form', { name: 'Edit device-001' });
    expect(within(form).getByLabelText('Name')).toHaveValue('Lab bench');
    await user.clear(within(form).getByLabelText('Location'));
    await user.type(within(form).getByLabelText('Location'), 'Building B');
    await user.click(within(form).getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(screen.queryByRole('form', { name: 'Edit device-001' })).not.toBeInTheDocument());
    expect(api.requests).toContain('PATCH /api/devices/device-001/');
    expect(api.state.devices[0]).toMatchObject({ name: 'Lab bench', location: 'Building B', metadata: {} });
  });

  it('rotates a key after a confirmation and shows the new key once', async () => {
    const user = userEvent.setup();
    const api = staffApi();
    renderApp('/devices/device-002', api);
    await user.click(await screen.findByRole('button', { name: 'Rotate key' }));
    await user.click(screen.getByRole('button', { name: 'Make a new key' }));
    const credentials = await screen.findByRole('region', { name: 'API key of device-002' });
    expect(within(credentials).getByText(api.state.apiKeys['device-002'])).toBeInTheDocument();
    expect(api.requests).toContain('POST /api/devices/device-002/rotate-key/');
  });

  it('decommissions after a confirmation, purging when asked, then goes back to the fleet', async () => {
    const user = userEvent.setup();
    const api = staffApi();
    const { router } = renderApp('/devices/device-003', api);
    await user.click(await screen.findByRole('button', { name: 'Decommission' }));
    const confirm = screen.getByRole('group', { name: 'Decommission device-003' });
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(api.state.devices).toHaveLength(3);

    await user.click(screen.getByRole('button', { name: 'Decommission' }));
    await user.click(screen.getByRole('checkbox', { name: /Also delete its readings/ }));
    await user.click(screen.getByRole('button', { name: 'Decommission device-003' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/'));
    expect(api.requests).toContain('DELETE /api/devices/device-003/?purge=true');
    expect(api.state.purged).toEqual(['device-003']);
    await screen.findByRole('row', { name: /device-001/ });
    expect(screen.queryByRole('row', { name: /device-003/ })).not.toBeInTheDocument();
  });

  it('tells a user whose session is no longer staff to sign in', async () => {
    const user = userEvent.setup();
    const api = staffApi();
    renderApp('/', api);
    const form = await openRegisterForm(user);
    api.state.staffUser = null;
    await user.type(within(form).getByLabelText('Device id'), 'boiler-9');
    await user.click(within(form).getByRole('button', { name: 'Register' }));
    expect(await within(form).findByRole('alert')).toHaveTextContent('Only a signed-in staff user can do this');
  });
});
