// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { describeAlert, parseAlertType } from './describe-alert';
import { unacknowledged } from '@/testing/data';

const lifecycle = { severity: 'critical', status: 'ACTIVE', ...unacknowledged } as const;

describe('describeAlert', () => {
  it('says how low a LOW_BATTERY battery was against the threshold', () => {
    expect(
      describeAlert({
        id: 4,
        device_id: 'device-001',
        alert_type: 'LOW_BATTERY',
        ts: '2024-10-09T14:00:00Z',
        payload: { battery: 14, threshold: 15, hysteresis: 5, source: 'default', ts: '2024-10-09T13:59:59Z' },
        ...lifecycle,
        severity: 'warning',
      }),
    ).toBe('Battery at 14.0 %, below the 15.0 % threshold');
  });

  it('says which metric an ANOMALY was and how far from the mean', () => {
    expect(
      describeAlert({
        id: 5,
        device_id: 'device-001',
        alert_type: 'ANOMALY',
        ts: '2024-10-09T14:00:00Z',
        payload: { metric: 'humidity', value: 91.5, z: 6.27, mean: 50, std: 6.6, z_limit: 4, source: 'default', ts: '2024-10-09T13:59:59Z' },
        ...lifecycle,
        severity: 'warning',
      }),
    ).toBe('Humidity 91.5 %, 6.3 σ from the recent mean (limit 4 σ)');
  });

  it('says how hot a HIGH_TEMP reading was against the threshold', () => {
    expect(
      describeAlert({
        id: 1,
        device_id: 'device-001',
        alert_type: 'HIGH_TEMP',
        ts: '2024-10-09T14:00:00Z',
        payload: { temperature: 31.24, threshold: 30, ts: '2024-10-09T13:59:59Z' },
        ...lifecycle,
      }),
    ).toBe('31.2 °C, above the 30.0 °C threshold');
  });

  it('says since when an OFFLINE device was silent', () => {
    const text = describeAlert({
      id: 2,
      device_id: 'device-001',
      alert_type: 'OFFLINE',
      ts: '2024-10-09T14:00:00Z',
      payload: { last_seen: '2024-10-09T13:59:49Z' },
      ...lifecycle,
    });
    expect(text).toMatch(/^Silent since \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('says an ONLINE device is reporting again', () => {
    const text = describeAlert({
      id: 3,
      device_id: 'device-001',
      alert_type: 'ONLINE',
      ts: '2024-10-09T14:00:00Z',
      payload: { offline_since: '2024-10-09T13:59:49Z' },
      ...lifecycle,
    });
    expect(text).toMatch(/^Reporting again after being offline since /);
  });
});

describe('parseAlertType', () => {
  it('accepts known types in either case', () => {
    expect(parseAlertType('high_temp')).toBe('HIGH_TEMP');
    expect(parseAlertType('nope')).toBeUndefined();
    expect(parseAlertType(null)).toBeUndefined();
  });
});
