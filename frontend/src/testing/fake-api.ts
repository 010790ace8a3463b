/**
 * A fake of the REST API for component tests: a fetch() that answers like the
 * Django API does (same paths, query parameters, filters, ordering and errors)
 * from in-memory state the test can change between polls.
 */
import type { Alert, Device, DeviceWindowStats, Health, PlatformConfig, Series, WindowStats } from '@/types/api';
import { sampleAlerts, sampleConfig, sampleDevices, sampleFleetStats, sampleHealth, sampleSeries } from './data';

export interface FakeApiState {
  devices: Device[];
  fleetStats: DeviceWindowStats[];
  alerts: Alert[];
  health: Health;
  config: PlatformConfig;
  /** Series per device id; a device without one gets a generated series. */
  series: Record<string, Series>;
  /** When set, every request fails as if the server were down. */
  unreachable: boolean;
  /** When set, /api/health/ answers 503 as with the database down. */
  databaseDown: boolean;
}

export interface FakeApi {
  state: FakeApiState;
  /** Every request's path and query, in order, e.g. "/api/devices/". */
  requests: string[];
  fetch: typeof fetch;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

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

function route(state: FakeApiState, url: URL): Response {
  const params = url.searchParams;
  const path = url.pathname;
  const deviceExists = (id: string | null) => id !== null && state.devices.some((d) => d.device_id === id);

  if (path === '/api/health/') {
    if (state.databaseDown) {
      return json({ status: 'unhealthy', database: 'disconnected', mqtt: 'disconnected', worker: 'stopped', timestamp: new Date().toISOString() }, 503);
    }
    return json(state.health);
  }
  if (path === '/api/config/') return json(state.config);
  if (path === '/api/devices/') {
    const status = params.get('status');
    if (status === null) return json(state.devices);
    const upper = status.toUpperCase();
    if (upper !== 'ONLINE' && upper !== 'OFFLINE') return json({ error: 'must be ONLINE or OFFLINE', field: 'status' }, 400);
    return json(state.devices.filter((d) => d.status === upper));
  }
  const detail = path.match(/^\/api\/devices\/([^/]+)\/$/);
  if (detail) {
    const id = decodeURIComponent(detail[1]);
    const device = state.devices.find((d) => d.device_id === id);
    return device ? json(device) : json({ error: `unknown device '${id}'` }, 404);
  }
  if (path === '/api/stats/fleet/') return json(state.fleetStats);
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
    const alerts = state.alerts
      .filter((a) => (deviceId ? a.device_id === deviceId : true) && (type ? a.alert_type === type : true))
      .sort((a, b) => b.ts.localeCompare(a.ts) || b.id - a.id)
      .slice(0, limit);
    return json(alerts);
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
    unreachable: false,
    databaseDown: false,
    ...overrides,
  };
  const requests: string[] = [];
  const fakeFetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input), 'http://localhost');
    requests.push(url.pathname + url.search);
    if (state.unreachable) throw new TypeError('Failed to fetch');
    return route(state, url);
  };
  return { state, requests, fetch: fakeFetch as typeof fetch };
}
