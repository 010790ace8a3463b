import type { DeviceStatus } from '@/types/api';

/** How many devices the fleet page asks for at a time. */
export const FLEET_PAGE_SIZE = 50;

/** The server-side filters of the device list and of the fleet averages. */
export interface DeviceFilters {
  status?: DeviceStatus;
  /** A prefix of the device id or name. */
  search?: string;
  /** An exact device type. */
  deviceType?: string;
}

/** The query parameters of one page of a fleet list: `?limit=&status=&search=&device_type=&cursor=`. */
export function pageParams(filters: DeviceFilters, cursor: string | undefined) {
  return {
    limit: FLEET_PAGE_SIZE,
    status: filters.status,
    search: filters.search?.trim(),
    device_type: filters.deviceType?.trim(),
    cursor,
  };
}
