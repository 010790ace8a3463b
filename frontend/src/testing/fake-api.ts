/**
 * A fake of the REST API for component tests: a fetch() that answers like the
 * Django API does (same paths, query parameters, filters, ordering and errors)
 * from in-memory state the test can change between polls.
 */
import type {
  Alert,
  Device,
  DeviceRule,
  DeviceWindowStats,
  Health,
  IngestRateMinute,
  PlatformConfig,
  Rejection,
  Series,
  WindowStats,
} from '@/types/api';
import {
  sampleAlerts,
  sampleConfig,
  sampleDeviceRule,
  sampleDevices,
  sampleFleetStats,
  sampleHealth,
  sampleRejections,
  sampleSeries,
} from './data';
import { json, registryRoute } from './fake-registry';

export interface FakeApiState {
  devices: Device[];
  fleetStats: DeviceWindowStats[];
  alerts: Alert[];
  health: Health;
  /** The thresholds; /api/config/ adds the user from `staffUser`. */
  config: Omit<PlatformConfig, 'user'>;
  /** Series per device id; a device without one gets a generated series. */
  series: Record<string, Series>;
  /** Stored rejected messages, in any order (the API answers newest first). */
  rejections: Rejection[];
  /** Devices' own rules; a device without one gets its defaults. */
  rules: Record<string, DeviceRule>;
  /** The signed-in staff user's name, or null for an anonymous visitor (acknowledging is a 403). */
  staffUser: string | null;
  /** The session's CSRF token: a POST without it in X-CSRFToken is a 403, as Django answers. */
  csrfToken: string;
  /**
   * Whether the server pages its lists (limit, cursor, search, a Link header) and answers
   * /api/stats/summary/; false is a server from before paging: whole lists, summary 404.
   */
  paging: boolean;
  /** /api/stats/ingest-rate/'s minutes, or null for a server without it (404). */
  ingestRate: IngestRateMinute[] | null;
  /** Every key the registry has handed out, by device id (the newest wins). */
  apiKeys: Record<string, string>;
  /** Device ids decommissioned with ?purge=true. */
  purged: string[];
  /** When set, every request fails as if the server were down. */
  unreachable: boolean;
  /** When set, /api/health/ answers 503 as with the database down. */
  databaseDown: boolean;
}

export interface FakeApi {
  state: FakeApiState;
  /** Every request's path and query, in order, e.g. "/api/devices/"; a POST starts with "POST ". */
  requests: string[];
  fetch: typeof fetch;
}

/** How many rows a paged list gives without `limit` (the real API's 1,000). */
const DEFAULT_PAGE = 1000;

const unknownDevice = (deviceId: string) => json({ error: `unknown device '${deviceId}'`, field: 'deviceId' }, 404);

function limitParam(params: URLSearchParams, fallback: number, max: number): number | Response {
  const raw = params.get('limit');
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) return json({ error: `must be 1..${max}`, field: 'limit' }, 400);
  return value;
}

function windowStats(state: FakeApiState, deviceId: string, window: string): WindowStats {
  const fleet = state.fleetStats.find((stats) => stats.device_id === deviceId);
  return fleet
    ? { ...fleet, window }
    : { device_id: deviceId, window, avg_temperature: null, avg_humidity: null, data_points: 0 };
}

const choice = (params: URLSearchParams, name: string, values: readonly string[]): string | null | Response => {
  const raw = params.get(name);
  if (raw === null) return null;
  const match = values.find((value) => value.toLowerCase() === raw.toLowerCase());
  return match ?? json({ error: `"${raw}" is not a valid choice.`, field: name }, 400);
};

function acknowledge(state: FakeApiState, rawId: string, csrfToken: string | null): Response {
  if (state.staffUser === null) return json({ error: 'Authentication credentials were not provided.' }, 403);
  if (csrfToken !== state.csrfToken) return json({ error: 'CSRF Failed: CSRF token missing.' }, 403);
  const alert = state.alerts.find((a) => String(a.id) === rawId);
  if (!alert) return json({ error: `unknown alert '${rawId}'` }, 404);
  if (!alert.acknowledged_at) {
    alert.acknowledged_at = new Date().toISOString();
    alert.acknowledged_by = state.staffUser;
  }
  return json(alert);
}

/** The devices matching the list filters the API has: status, device_type and (when paging) search. */
function matchingDevices(state: FakeApiState, params: URLSearchParams): Device[] | Response {
  const status = choice(params, 'status', ['ONLINE', 'OFFLINE']);
  if (status instanceof Response) return status;
  const type = params.get('device_type');
  const search = state.paging ? params.get('search')?.toLowerCase() : undefined;
  return state.devices.filter(
    (d) =>
      (status ? d.status === status : true) &&
      (type !== null ? d.device_type === type : true) &&
      (search ? d.device_id.toLowerCase().startsWith(search) || d.name.toLowerCase().startsWith(search) : true),
  );
}

/**
 * One page of rows ordered by device id after the `cursor` (the last id of the page
 * before), and the cursor of the next page (null on the last); a server without paging
 * answers all rows.
 */
function pageOf<T extends { device_id: string }>(state: FakeApiState, url: URL, rows: T[]): { rows: T[]; next: string | null } | Response {
  if (!state.paging) return { rows, next: null };
  const limit = limitParam(url.searchParams, DEFAULT_PAGE, 1000);
  if (limit instanceof Response) return limit;
  const cursor = url.searchParams.get('cursor');
  const after = cursor === null ? null : atob(cursor);
  const sorted = [...rows].sort((a, b) => a.device_id.localeCompare(b.device_id));
  const rest = after === null ? sorted : sorted.filter((row) => row.device_id > after);
  const page = rest.slice(0, limit);
  return { rows: page, next: rest.length > limit ? btoa(page[page.length - 1].device_id) : null };
}

/** `body` as JSON with a Link header to the page at `next`, if any. */
function withNextLink(body: unknown, url: URL, next: string | null): Response {
  const response = json(body);
  if (next !== null) {
    const link = new URL(url);
    link.searchParams.set('cursor', next);
    response.headers.set('Link', `<${link.href}>; rel="next"`);
  }
  return response;
}

function paged<T extends { device_id: string }>(state: FakeApiState, url: URL, rows: T[]): Response {
  const page = pageOf(state, url, rows);
  return page instanceof Response ? page : withNextLink(page.rows, url, page.next);
}

function route(state: FakeApiState, url: URL, method: string, headers: Headers, body: Record<string, unknown>): Response {
  const params = url.searchParams;
  const path = url.pathname;
  const deviceExists = (id: string | null) => id !== null && state.devices.some((d) => d.device_id === id);

  const ack = path.match(/^\/api\/alerts\/([^/]+)\/acknowledge\/$/);
  if (ack) return method === 'POST' ? acknowledge(state, decodeURIComponent(ack[1]), headers.get('X-CSRFToken')) : json({ error: 'Method not allowed.' }, 405);
  const write = registryRoute(state, url, method, body, headers.get('X-CSRFToken'));
  if (write) return write;
  if (method !== 'GET') return json({ error: 'Method not allowed.' }, 405);

  if (path === '/api/health/') {
    if (state.databaseDown) {
      return json({ status: 'unhealthy', database: 'disconnected', mqtt: 'disconnected', worker: 'stopped', timestamp: new Date().toISOString() }, 503);
    }
    return json(state.health);
  }
  if (path === '/api/config/') {
    const user = state.staffUser === null ? null : { username: state.staffUser, is_staff: true };
    return json({ ...state.config, user });
  }
  if (path === '/api/devices/') {
    const devices = matchingDevices(state, params);
    return devices instanceof Response ? devices : paged(state, url, devices);
  }
  const detail = path.match(/^\/api\/devices\/([^/]+)\/$/);
  if (detail) {
    const id = decodeURIComponent(detail[1]);
    const device = state.devices.find((d) => d.device_id === id);
    return device ? json(device) : json({ error: `unknown device '${id}'` }, 404);
  }
  if (path === '/api/stats/fleet/') {
    // As the API: a page of the device list (same filters, cursor and Link), each of its
    // devices with readings in the window as a row.
    const devices = matchingDevices(state, params);
    if (devices instanceof Response) return devices;
    const page = pageOf(state, url, devices);
    if (page instanceof Response) return page;
    const ids = new Set(page.rows.map((d) => d.device_id));
    return withNextLink(state.fleetStats.filter((stats) => ids.has(stats.device_id)), url, page.next);
  }
  if (path === '/api/stats/summary/' && state.paging) {
    const online = state.devices.filter((d) => d.status === 'ONLINE').length;
    const alertsActive = state.alerts.filter((a) => a.status === 'ACTIVE').length;
    return json({ devices: state.devices.length, online, offline: state.devices.length - online, alerts_active: alertsActive });
  }
  if (path === '/api/stats/ingest-rate/' && state.ingestRate !== null) return json(state.ingestRate);
  if (path === '/api/stats/avg/') {
    const deviceId = params.get('deviceId');
    const window = params.get('window');
    if (!deviceId) return json({ error: 'This field is required.', field: 'deviceId' }, 400);
    if (!window) return json({ error: 'This field is required.', field: 'window' }, 400);
    if (!deviceExists(deviceId)) return unknownDevice(deviceId);
    return json(windowStats(state, deviceId, window));
  }
  if (path === '/api/telemetry/series/') {
    const deviceId = params.get('deviceId');
    const window = params.get('window') ?? '5m';
    if (!deviceId) return json({ error: 'This field is required.', field: 'deviceId' }, 400);
    if (!['5m', '1h', '24h'].includes(window)) return json({ error: 'must be 5m, 1h or 24h', field: 'window' }, 400);
    if (!deviceExists(deviceId)) return unknownDevice(deviceId);
    const series = state.series[deviceId] ?? sampleSeries(deviceId, window);
    return json({ ...series, window });
  }
  if (path === '/api/alerts/') {
    const limit = limitParam(params, 50, 1000);
    if (limit instanceof Response) return limit;
    const deviceId = params.get('deviceId');
    const type = params.get('alert_type');
    const status = choice(params, 'status', ['ACTIVE', 'CLEARED']);
    if (status instanceof Response) return status;
    const severity = choice(params, 'severity', ['critical', 'warning', 'info']);
    if (severity instanceof Response) return severity;
    const acknowledged = params.get('acknowledged')?.toLowerCase() ?? null;
    if (acknowledged !== null && acknowledged !== 'true' && acknowledged !== 'false') {
      return json({ error: 'must be true or false', field: 'acknowledged' }, 400);
    }
    const alerts = state.alerts
      .filter(
        (a) =>
          (deviceId ? a.device_id === deviceId : true) &&
          (type ? a.alert_type === type : true) &&
          (status ? a.status === status : true) &&
          (severity ? a.severity === severity : true) &&
          (acknowledged ? (a.acknowledged_at !== null) === (acknowledged === 'true') : true),
      )
      .sort((a, b) => b.ts.localeCompare(a.ts) || b.id - a.id)
      .slice(0, limit);
    return json(alerts);
  }
  if (path === '/api/rejections/') {
    const limit = limitParam(params, 50, 1000);
    if (limit instanceof Response) return limit;
    const deviceId = params.get('deviceId');
    const reason = params.get('reason');
    const rejections = state.rejections
      .filter((r) => (deviceId ? r.device_id === deviceId : true) && (reason ? r.reason.split(': ')[0] === reason : true))
      .sort((a, b) => b.received_at.localeCompare(a.received_at))
      .slice(0, limit);
    return json(rejections);
  }
  const rule = path.match(/^\/api\/rules\/devices\/([^/]+)\/$/);
  if (rule) {
    const id = decodeURIComponent(rule[1]);
    if (!deviceExists(id)) return json({ error: `unknown device '${id}'` }, 404);
    return json(state.rules[id] ?? sampleDeviceRule(id));
  }
  return json({ error: 'not found' }, 404);
}

/** A fake API seeded with the sample fleet; pass overrides to change the data. */
export function createFakeApi(overrides: Partial<FakeApiState> = {}): FakeApi {
  const state: FakeApiState = {
    devices: sampleDevices(),
    fleetStats: sampleFleetStats(),
    alerts: sampleAlerts(),
    health: sampleHealth(),
    config: sampleConfig,
    series: {},
    rejections: sampleRejections(),
    rules: {},
    staffUser: null,
    paging: true,
    ingestRate: null,
    apiKeys: {},
    purged: [],
    csrfToken: 'test-csrf-token',
    unreachable: false,
    databaseDown: false,
    ...overrides,
  };
  const requests: string[] = [];
  const fakeFetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input), 'http://localhost');
    const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    requests.push(`${method === 'GET' ? '' : `${method} `}${url.pathname}${url.search}`);
    if (state.unreachable) throw new TypeError('Failed to fetch');
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : {};
    return route(state, url, method, new Headers(init.headers), body);
  };
  return { state, requests, fetch: fakeFetch as typeof fetch };
}
