/**
 * Shapes of the REST API's responses, as the dashboard uses them.
 *
 * Everything here comes from api.generated.ts, which `make api-types` generates from the
 * backend's OpenAPI schema (`make check-api-types` fails when the two differ): never
 * edit that file, and add a name here rather than writing a shape by hand.
 */
import type { components } from './api.generated';

type Schemas = components['schemas'];

export type DeviceStatus = Schemas['DeviceStatusEnum'];
export type AlertType = Schemas['AlertTypeEnum'];
export type Severity = Schemas['SeverityEnum'];
export type AlertStatus = Schemas['AlertStatusEnum'];
/** The windows the device page offers (any `^\d+[smhd]$` up to 30d is valid for the API). */
export type SeriesWindow = '5m' | '1h' | '24h';

export type Health = Schemas['Health'];
export type LatestReading = Schemas['LatestReading'];
export type Device = Schemas['Device'];
export type DeviceWindowStats = Schemas['DeviceWindowStats'];
export type FleetSummary = Schemas['FleetSummary'];
/** One minute of GET /api/stats/ingest-rate/ (the last 60 minutes, oldest first). */
export type IngestRateMinute = Schemas['IngestRate'];
export type WindowStats = Schemas['WindowStats'];
export type SeriesPoint = Schemas['SeriesPoint'];
export type Series = Schemas['Series'];
export type PlatformConfig = Schemas['Config'];
export type Viewer = Schemas['Viewer'];
export type DeviceCreate = Schemas['DeviceCreate'];
export type DeviceFields = Schemas['PatchedDeviceFields'];
export type RegisteredDevice = Schemas['RegisteredDevice'];
export type RotatedKey = Schemas['RotatedKey'];
export type Rejection = Schemas['Rejection'];
export type DeviceRule = Schemas['DeviceRule'];
export type EffectiveRules = Schemas['EffectiveRules'];

export type HighTempPayload = Schemas['HighTempPayload'];
export type OfflinePayload = Schemas['OfflinePayload'];
export type OnlinePayload = Schemas['OnlinePayload'];
export type LowBatteryPayload = Schemas['LowBatteryPayload'];
export type AnomalyPayload = Schemas['AnomalyPayload'];

/** The schema gives the payload as one of five shapes; alert_type says which. */
type AlertOf<T extends AlertType, P> = Omit<Schemas['Alert'], 'alert_type' | 'payload'> & {
  alert_type: T;
  payload: P;
};

export type Alert =
  | AlertOf<'HIGH_TEMP', HighTempPayload>
  | AlertOf<'OFFLINE', OfflinePayload>
  | AlertOf<'ONLINE', OnlinePayload>
  | AlertOf<'LOW_BATTERY', LowBatteryPayload>
  | AlertOf<'ANOMALY', AnomalyPayload>;
