import { formatDateTime, formatMetric } from '@/lib/format';
import type { Alert, AlertType } from '@/types/api';

export const ALERT_TYPES: readonly { value: AlertType; label: string }[] = [
  { value: 'HIGH_TEMP', label: 'High temperature' },
  { value: 'OFFLINE', label: 'Offline' },
  { value: 'ONLINE', label: 'Back online' },
  { value: 'LOW_BATTERY', label: 'Low battery' },
  { value: 'ANOMALY', label: 'Anomalous reading' },
];

/** Parses ?type= from the URL into an alert type, or undefined for all. */
export function parseAlertType(value: string | null | undefined): AlertType | undefined {
  const upper = (value ?? '').toUpperCase();
  return ALERT_TYPES.some((t) => t.value === upper) ? (upper as AlertType) : undefined;
}

/** What an alert's payload says, as a sentence. */
export function describeAlert(alert: Alert): string {
  switch (alert.alert_type) {
    case 'HIGH_TEMP': {
      const { temperature, threshold } = alert.payload;
      return `${formatMetric(temperature, '°C')}, above the ${formatMetric(threshold, '°C')} threshold`;
    }
    case 'OFFLINE':
      return alert.payload.last_seen ? `Silent since ${formatDateTime(alert.payload.last_seen)}` : 'Stopped reporting';
    case 'ONLINE':
      return alert.payload.offline_since
        ? `Reporting again after being offline since ${formatDateTime(alert.payload.offline_since)}`
        : 'Reporting again';
    case 'LOW_BATTERY': {
      const { battery, threshold } = alert.payload;
      return `Battery at ${formatMetric(battery, '%')}, below the ${formatMetric(threshold, '%')} threshold`;
    }
    case 'ANOMALY': {
      const { metric, value, z, z_limit: limit } = alert.payload;
      const shown = formatMetric(value, metric === 'temperature' ? '°C' : '%');
      return `${metric === 'temperature' ? 'Temperature' : 'Humidity'} ${shown}, ${z.toFixed(1)} σ from the recent mean (limit ${limit} σ)`;
    }
    default:
      return '';
  }
}
