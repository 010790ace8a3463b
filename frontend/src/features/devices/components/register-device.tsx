import { useState } from 'react';
import type { DeviceCreate, RegisteredDevice } from '@/types/api';
import { useRegisterDevice } from '../api/device-writes';
import { DeviceCredentials } from './device-credentials';
import { DeviceFieldsForm, deviceBody, formError, initialValues, type FieldValues, type FormError } from './device-fields-form';

const FIELDS = ['device_id', 'name', 'device_type', 'location', 'metadata'] as const;

/** "Register a device" for staff: the form, then the new device's key (shown once) and commands. */
export function RegisterDevice() {
  const [open, setOpen] = useState(false);
  const [localError, setLocalError] = useState<FormError | null>(null);
  const [registered, setRegistered] = useState<RegisteredDevice | null>(null);
  const { mutate, isPending, error, reset } = useRegisterDevice();

  const close = () => {
    setOpen(false);
    setRegistered(null);
    setLocalError(null);
    reset();
  };
  const submit = (values: FieldValues) => {
    const parsed = deviceBody(values, FIELDS);
    if ('error' in parsed) return setLocalError(parsed.error);
    setLocalError(null);
    mutate(parsed.body as unknown as DeviceCreate, { onSuccess: setRegistered });
  };

  if (!open) {
    return (
      <button
        type="button"
        onClick={() => setOpen(true)}
        className="rounded-lg bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-700"
      >
        Register a device
      </button>
    );
  }
  return (
    <div className="basis-full rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-700 dark:bg-slate-900">
      <h2 className="mb-3 text-base font-semibold">Register a device</h2>
      {registered ? (
        <DeviceCredentials deviceId={registered.device_id} apiKey={registered.api_key} onDone={close} />
      ) : (
        <DeviceFieldsForm
          label="Register a device"
          fields={FIELDS}
          initial={initialValues()}
          error={localError ?? (error ? formError(error, FIELDS) : null)}
          submitLabel={isPending ? 'Registering…' : 'Register'}
          pending={isPending}
          onSubmit={submit}
        >
          <button type="button" onClick={close} className="rounded-lg px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800">
            Cancel
          </button>
        </DeviceFieldsForm>
      )}
    </div>
  );
}
