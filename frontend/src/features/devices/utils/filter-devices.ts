import type { Device, DeviceStatus } from '@/types/api';

export type StatusFilter = 'ALL' | DeviceStatus;

/** Parses a ?status= value from the URL into a filter (anything unknown means all). */
export function parseStatusFilter(value: string | null | undefined): StatusFilter {
  const upper = (value ?? '').toUpperCase();
  return upper === 'ONLINE' || upper === 'OFFLINE' ? upper : 'ALL';
}

/** The devices matching a status and a case-insensitive search on id or name. */
export function filterDevices(devices: readonly Device[], status: StatusFilter, query: string): Device[] {
  const needle = query.trim().toLowerCase();
  return devices.filter(
    (device) =>
      (status === 'ALL' || device.status === status) &&
      (needle === '' ||
        device.device_id.toLowerCase().includes(needle) ||
        device.name.toLowerCase().includes(needle)),
  );
}

/** How many devices are online and offline. */
export function countByStatus(devices: readonly Device[]): { total: number; online: number; offline: number } {
  let online = 0;
  for (const device of devices) if (device.status === 'ONLINE') online += 1;
  return { total: devices.length, online, offline: devices.length - online };
}
