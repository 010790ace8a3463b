/** Shapes of the REST API's responses (see docs/dashboard.md and the API table). */

export type DeviceStatus = 'ONLINE' | 'OFFLINE';
export type AlertType = 'HIGH_TEMP' | 'OFFLINE' | 'ONLINE';
export type SeriesWindow = '5m' | '1h' | '24h';

export interface Health {
  status: 'healthy' | 'degraded';
  database: 'connected' | string;
  mqtt: 'connected' | 'disconnected';
  worker: 'running' | 'stopped';
  timestamp: string;
}

export interface LatestReading {
  ts: string;
  temperature: number | null;
  humidity: number | null;
}

export interface Device {
  device_id: string;
  status: DeviceStatus;
  last_seen: string | null;
  name: string;
  device_type: string;
  location: string;
  latest: LatestReading | null;
}

export interface DeviceWindowStats {
  device_id: string;
  avg_temperature: number | null;
  avg_humidity: number | null;
  data_points: number;
}

export interface WindowStats extends DeviceWindowStats {
  window: string;
}

export interface SeriesPoint {
  ts: string;
  temperature: number | null;
  humidity: number | null;
  count: number;
}

export interface Series {
  device_id: string;
  window: string;
  bucket_seconds: number;
  points: SeriesPoint[];
}

export interface HighTempPayload {
  temperature: number;
  threshold: number;
  ts?: string;
}

export interface OfflinePayload {
  last_seen: string;
}

export interface OnlinePayload {
  offline_since: string;
}

export type Alert =
  | { id: number; device_id: string; alert_type: 'HIGH_TEMP'; ts: string; payload: HighTempPayload }
  | { id: number; device_id: string; alert_type: 'OFFLINE'; ts: string; payload: OfflinePayload }
  | { id: number; device_id: string; alert_type: 'ONLINE'; ts: string; payload: OnlinePayload };

export interface PlatformConfig {
  high_temp_threshold: number;
  offline_after_seconds: number;
}
