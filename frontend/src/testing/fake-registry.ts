/** The fake API's device registry writes: register, edit, decommission and rotate a key, as Django answers them. */
import type { Device, RegisteredDevice } from '@/types/api';
import type { FakeApiState } from './fake-api';
import { makeDevice } from './data';

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FIELD_LIMITS = { name: 200, device_type: 100, location: 200 } as const;

export const json = (body: unknown, status = 200) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

let keyCounter = 0;
const newKey = () => `test-key-${(keyCounter += 1)}-${'x'.repeat(30)}`;

/** A 400 naming the first bad field of a device body, or null when it is good. */
function badField(body: Record<string, unknown>, allowed: readonly string[]): Response | null {
  for (const [field, value] of Object.entries(body)) {
    if (!allowed.includes(field)) return json({ error: 'unknown field, or not one that can be set', field }, 400);
    if (field === 'metadata') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return json({ error: 'must be a JSON object', field }, 400);
      }
    } else if (field in FIELD_LIMITS) {
      const limit = FIELD_LIMITS[field as keyof typeof FIELD_LIMITS];
      if (typeof value !== 'string') return json({ error: 'Not a valid string.', field }, 400);
      if (value.length > limit) return json({ error: `Ensure this field has no more than ${limit} characters.`, field }, 400);
    }
  }
  return null;
}

function register(state: FakeApiState, body: Record<string, unknown>): Response {
  const invalid = badField(body, ['device_id', 'name', 'device_type', 'location', 'metadata']);
  if (invalid) return invalid;
  const id = body.device_id;
  if (typeof id !== 'string' || id === '') return json({ error: 'This field is required.', field: 'device_id' }, 400);
  if (!DEVICE_ID.test(id)) return json({ error: 'not a valid device id', field: 'device_id' }, 400);
  if (state.devices.some((d) => d.device_id === id)) {
    return json({ error: `device '${id}' is registered already`, field: 'device_id' }, 409);
  }
  const device = makeDevice({
    device_id: id,
    status: 'ONLINE',
    last_seen: null,
    latest: null,
    name: (body.name as string) ?? '',
    device_type: (body.device_type as string) ?? '',
    location: (body.location as string) ?? '',
    metadata: (body.metadata as Device['metadata']) ?? {},
  });
  state.devices.push(device);
  const apiKey = newKey();
  state.apiKeys[id] = apiKey;
  const registered: RegisteredDevice = { ...device, api_key: apiKey };
  return json(registered, 201);
}

/** Answers a write on /api/devices/..., or null when the request is not one. */
export function registryRoute(
  state: FakeApiState,
  url: URL,
  method: string,
  body: Record<string, unknown>,
  csrfToken: string | null,
): Response | null {
  const path = url.pathname;
  const detail = path.match(/^\/api\/devices\/([^/]+)\/$/);
  const rotate = path.match(/^\/api\/devices\/([^/]+)\/rotate-key\/$/);
  const isWrite = method !== 'GET' && (path === '/api/devices/' || detail || rotate);
  if (!isWrite) return null;
  if (state.staffUser === null) return json({ error: 'Authentication credentials were not provided.' }, 403);
  if (csrfToken !== state.csrfToken) return json({ error: 'CSRF Failed: CSRF token missing.' }, 403);

  if (path === '/api/devices/') return method === 'POST' ? register(state, body) : json({ error: 'Method not allowed.' }, 405);
  const id = decodeURIComponent((detail ?? rotate)![1]);
  const index = state.devices.findIndex((d) => d.device_id === id);
  if (index < 0) return json({ error: `unknown device '${id}'` }, 404);
  if (rotate) {
    if (method !== 'POST') return json({ error: 'Method not allowed.' }, 405);
    state.apiKeys[id] = newKey();
    return json({ device_id: id, api_key: state.apiKeys[id] });
  }
  if (method === 'PATCH') {
    const invalid = badField(body, ['name', 'device_type', 'location', 'metadata']);
    if (invalid) return invalid;
    state.devices[index] = { ...state.devices[index], ...body };
    return json(state.devices[index]);
  }
  if (method === 'DELETE') {
    const purge = url.searchParams.get('purge');
    if (purge !== null && !['true', 'false'].includes(purge.toLowerCase())) {
      return json({ error: 'Must be a valid boolean.', field: 'purge' }, 400);
    }
    state.devices.splice(index, 1);
    if (purge?.toLowerCase() === 'true') state.purged.push(id);
    return json(null, 204);
  }
  return json({ error: 'Method not allowed.' }, 405);
}
