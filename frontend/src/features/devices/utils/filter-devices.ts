import type { Device, DeviceStatus } from '@/types/api';

export type StatusFilter = 'ALL' | DeviceStatus;

/** Parses a ?status= value from the URL into a filter (anything unknown means all). */
export function parseStatusFilter(value: string | null | undefined): StatusFilter {
  const upper = (value ?? '').toUpperCase();
  return upper === 'ONLINE' || upper === 'OFFLINE' ? upper : 'ALL';
}

/**
 * The devices matching a status and a case-insensitive prefix of their id or name: the
 * API's own search rule, applied again in the browser for servers that do not search.
 */
export function filterDevices(devices: readonly Device[], status: StatusFilter, query: string): Device[] {
  const needle = query.trim().toLowerCase();
  return devices.filter(
    (device) =>
      (status === 'ALL' || device.status === status) &&
      (needle === '' ||
        device.device_id.toLowerCase().startsWith(needle) ||
        device.name.toLowerCase().startsWith(needle)),
  );
}
