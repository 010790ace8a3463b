import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiSend } from '@/lib/api-client';
import type { Device, DeviceCreate, DeviceFields, RegisteredDevice, RotatedKey } from '@/types/api';

const devicePath = (deviceId: string) => `devices/${encodeURIComponent(deviceId)}/`;

/** POST /api/devices/ (staff): registers a device; the answer holds its API key, shown this once. */
export function registerDevice(body: DeviceCreate): Promise<RegisteredDevice> {
  return apiSend<RegisteredDevice>('POST', 'devices/', { body });
}

/** PATCH /api/devices/{id}/ (staff): sets name, device_type, location or metadata (replaced whole). */
export function updateDevice(deviceId: string, body: DeviceFields): Promise<Device> {
  return apiSend<Device>('PATCH', devicePath(deviceId), { body });
}

/** DELETE /api/devices/{id}/ (staff): decommissions it; `purge` also deletes its history, in the background. */
export function decommissionDevice(deviceId: string, purge: boolean): Promise<void> {
  return apiSend<void>('DELETE', devicePath(deviceId), { params: { purge: purge ? 'true' : undefined } });
}

/** POST /api/devices/{id}/rotate-key/ (staff): a new key, shown this once; the old one stops working. */
export function rotateDeviceKey(deviceId: string): Promise<RotatedKey> {
  return apiSend<RotatedKey>('POST', `${devicePath(deviceId)}rotate-key/`);
}

/** Each write refreshes every device query (the fleet's pages, the device, the totals). */
function useDeviceWrite<A, R>(write: (args: A) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: write,
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: ['devices'] }),
        client.invalidateQueries({ queryKey: ['stats'] }),
      ]),
  });
}

export const useRegisterDevice = () => useDeviceWrite(registerDevice);
export const useUpdateDevice = (deviceId: string) => useDeviceWrite((body: DeviceFields) => updateDevice(deviceId, body));
export const useRotateDeviceKey = (deviceId: string) => useDeviceWrite((_: void) => rotateDeviceKey(deviceId));

/** Decommissions without refreshing the device itself, whose page is being left (it would 404). */
export function useDecommissionDevice(deviceId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (purge: boolean) => decommissionDevice(deviceId, purge),
    onSuccess: () => {
      client.removeQueries({ queryKey: ['devices', deviceId], exact: true });
      return Promise.all([
        client.invalidateQueries({ queryKey: ['devices', 'page'] }),
        client.invalidateQueries({ queryKey: ['stats'] }),
      ]);
    },
  });
}
