// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { makeDevice } from '@/testing/data';
import { countByStatus, filterDevices, parseStatusFilter } from './filter-devices';

const devices = [
  makeDevice({ device_id: 'device-001', status: 'ONLINE', name: 'Lab' }),
  makeDevice({ device_id: 'device-002', status: 'OFFLINE', name: 'Freezer' }),
  makeDevice({ device_id: 'boiler-7', status: 'ONLINE', name: '' }),
];

describe('filterDevices', () => {
  it('keeps every device with no filter', () => {
    expect(filterDevices(devices, 'ALL', '')).toHaveLength(3);
  });

  it('keeps only devices with the chosen status', () => {
    expect(filterDevices(devices, 'OFFLINE', '').map((d) => d.device_id)).toEqual(['device-002']);
  });

  it('matches the search against id and name, ignoring case and spaces', () => {
    expect(filterDevices(devices, 'ALL', ' DEVICE ').map((d) => d.device_id)).toEqual(['device-001', 'device-002']);
    expect(filterDevices(devices, 'ALL', 'freez').map((d) => d.device_id)).toEqual(['device-002']);
    expect(filterDevices(devices, 'ONLINE', 'device').map((d) => d.device_id)).toEqual(['device-001']);
  });
});

describe('countByStatus', () => {
  it('counts online and offline devices', () => {
    expect(countByStatus(devices)).toEqual({ total: 3, online: 2, offline: 1 });
  });
});

describe('parseStatusFilter', () => {
  it('accepts either case and falls back to all', () => {
    expect(parseStatusFilter('online')).toBe('ONLINE');
    expect(parseStatusFilter('OFFLINE')).toBe('OFFLINE');
    expect(parseStatusFilter('bogus')).toBe('ALL');
    expect(parseStatusFilter(null)).toBe('ALL');
  });
});
