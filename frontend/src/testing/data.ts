/** Fake API data shaped exactly like the real responses. */
import type { Alert, Device, DeviceRule, DeviceWindowStats, Health, PlatformConfig, Rejection, Series } from '@/types/api';

/** An ISO 8601 UTC timestamp `seconds` before now (or before `from`). */
export const isoAgo = (seconds: number, from = Date.now()) => new Date(from - seconds * 1000).toISOString();

export function makeDevice(overrides: Partial<Device> = {}): Device {
  return {
    device_id: 'device-001',
    status: 'ONLINE',
    last_seen: isoAgo(2),
    name: '',
    device_type: 'sensor',
    location: '',
    metadata: {},
    latest: { ts: isoAgo(2), temperature: 26.3, humidity: 47.9 },
    ...overrides,
  };
}

export function sampleDevices(): Device[] {
  return [
    makeDevice({ device_id: 'device-001', name: 'Lab bench', location: 'Building A' }),
    makeDevice({ device_id: 'device-002', latest: { ts: isoAgo(1), temperature: 31.4, humidity: 52.1 } }),
    makeDevice({
      device_id: 'device-003',
      status: 'OFFLINE',
      last_seen: isoAgo(95),
      latest: { ts: isoAgo(95), temperature: 22.8, humidity: 61.0 },
    }),
  ];
}

export function sampleFleetStats(): DeviceWindowStats[] {
  return [
    { device_id: 'device-001', avg_temperature: 25.94, avg_humidity: 48.12, data_points: 290 },
    { device_id: 'device-002', avg_temperature: 30.55, avg_humidity: 51.0, data_points: 288 },
  ];
}

export function sampleHealth(overrides: Partial<Health> = {}): Health {
  return {
    status: 'healthy',
    database: 'connected',
    mqtt: 'connected',
    worker: 'running',
    timestamp: new Date().toISOString(),
    ...overrides,
  };
}

export const sampleConfig: Omit<PlatformConfig, 'user'> = { high_temp_threshold: 30.0, offline_after_seconds: 10 };

/** A series of `count` one-second buckets ending now, oldest first. */
export function sampleSeries(deviceId: string, window = '5m', count = 60): Series {
  const end = Math.floor(Date.now() / 1000) * 1000;
  return {
    device_id: deviceId,
    window,
    bucket_seconds: 1,
    points: Array.from({ length: count }, (_, i) => ({
      ts: new Date(end - (count - 1 - i) * 1000).toISOString(),
      temperature: 25 + Math.sin(i / 5) * 3,
      humidity: 50 + Math.cos(i / 7) * 5,
      count: 1,
    })),
  };
}

/** The lifecycle fields of an alert nobody has acknowledged yet. */
export const unacknowledged = {
  cleared_at: null,
  acknowledged_at: null,
  acknowledged_by: null,
} as const;

export function sampleAlerts(): Alert[] {
  return [
    {
      id: 3,
      device_id: 'device-003',
      alert_type: 'OFFLINE',
      ts: isoAgo(80),
      payload: { last_seen: isoAgo(95) },
      severity: 'critical',
      status: 'ACTIVE',
      ...unacknowledged,
    },
    {
      id: 2,
      device_id: 'device-002',
      alert_type: 'HIGH_TEMP',
      ts: isoAgo(120),
      payload: { temperature: 31.4, threshold: 30.0, ts: isoAgo(121) },
      severity: 'critical',
      status: 'ACTIVE',
      ...unacknowledged,
    },
    {
      id: 1,
      device_id: 'device-001',
      alert_type: 'ONLINE',
      ts: isoAgo(600),
      payload: { offline_since: isoAgo(700) },
      severity: 'info',
      status: 'CLEARED',
      ...unacknowledged,
      cleared_at: isoAgo(600),
    },
  ];
}

/** A device without a rule of its own: every threshold from the defaults. */
export function sampleDeviceRule(deviceId: string): DeviceRule {
  const from = (value: number) => ({ value, source: 'default' as const });
  return {
    device_id: deviceId,
    high_temp_threshold: null,
    high_temp_hysteresis: null,
    offline_after_seconds: null,
    low_battery_percent: null,
    low_battery_hysteresis: null,
    anomaly_z: null,
    effective: {
      high_temp_threshold: from(30),
      high_temp_hysteresis: from(0),
      offline_after_seconds: from(10),
      low_battery_percent: from(15),
      low_battery_hysteresis: from(5),
      anomaly_z: from(4),
    },
  };
}

export function sampleRejections(): Rejection[] {
  return [
    {
      received_at: isoAgo(30),
      topic: 'devices/device-002/telemetry',
      device_id: 'device-002',
      reason: 'temperature out of range -100..200',
      payload: '{"temperature": 900}',
    },
    {
      received_at: isoAgo(10),
      topic: 'devices/device-001/telemetry',
      device_id: 'device-001',
      reason: 'invalid JSON: unexpected end of data: line 1 column 20 (char 19)',
      payload: '{"temperature": 25,',
    },
  ];
}
