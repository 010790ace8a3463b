// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { makeDevice } from '@/testing/data';
import { filterDevices, parseStatusFilter } from './filter-devices';

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

  it('matches the search against a prefix of id or name, ignoring case and spaces', () => {
    expect(filterDevices(devices, 'ALL', ' DEVICE ').map((d) => d.device_id)).toEqual(['device-001', 'device-002']);
    expect(filterDevices(devices, 'ALL', 'freez').map((d) => d.device_id)).toEqual(['device-002']);
    expect(filterDevices(devices, 'ONLINE', 'device').map((d) => d.device_id)).toEqual(['device-001']);
    expect(filterDevices(devices, 'ALL', '001').map((d) => d.device_id)).toEqual([]);
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
