import { useState, type ReactNode } from 'react';
import type { DeviceFields } from '@/types/api';
import { useDecommissionDevice, useRotateDeviceKey, useUpdateDevice } from '../api/device-writes';
import { useDevice } from '../api/get-device';
import { DeviceCredentials } from './device-credentials';
import { DeviceFieldsForm, deviceBody, formError, initialValues, type FieldValues, type FormError } from './device-fields-form';

const EDITABLE = ['name', 'device_type', 'location', 'metadata'] as const;

const secondary =
  'rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100 disabled:opacity-50 dark:border-slate-600 dark:text-slate-100 dark:hover:bg-slate-800';
const danger = 'rounded-lg bg-red-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-800 disabled:opacity-50';

type Mode = 'idle' | 'edit' | 'rotate' | 'decommission';

function EditDevice({ deviceId, onDone }: { deviceId: string; onDone: () => void }) {
  const { data: device } = useDevice(deviceId);
  const { mutate, isPending, error } = useUpdateDevice(deviceId);
  const [localError, setLocalError] = useState<FormError | null>(null);
  if (!device) return null;
  const submit = (values: FieldValues) => {
    const parsed = deviceBody(values, EDITABLE);
    if ('error' in parsed) return setLocalError(parsed.error);
    setLocalError(null);
    mutate(parsed.body as DeviceFields, { onSuccess: onDone });
  };
  return (
    <DeviceFieldsForm
      label={`Edit ${deviceId}`}
      fields={EDITABLE}
      initial={initialValues(device)}
      error={localError ?? (error ? formError(error, EDITABLE) : null)}
      submitLabel={isPending ? 'Saving…' : 'Save'}
      pending={isPending}
      onSubmit={submit}
    >
      <button type="button" onClick={onDone} className={secondary}>
        Cancel
      </button>
    </DeviceFieldsForm>
  );
}

/** A destructive step explained, with its confirm and cancel buttons and its error. */
function Confirmation({ label, confirmLabel, pending, error, onConfirm, onCancel, children }: {
  label: string;
  confirmLabel: string;
  pending: boolean;
  error: unknown;
  onConfirm: () => void;
  onCancel: () => void;
  children: ReactNode;
}) {
  return (
    <div role="group" aria-label={label} className="space-y-2 text-sm">
      {children}
      <div className="flex gap-2">
        <button type="button" className={danger} disabled={pending} onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" className={secondary} onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error != null && <p role="alert" className="text-red-700 dark:text-red-300">{formError(error, []).message}</p>}
    </div>
  );
}

function RotateKey({ deviceId, onDone }: { deviceId: string; onDone: () => void }) {
  const { mutate, data, isPending, error } = useRotateDeviceKey(deviceId);
  if (data) return <DeviceCredentials deviceId={deviceId} apiKey={data.api_key} onDone={onDone} />;
  return (
    <Confirmation
      label="Rotate the API key"
      confirmLabel={isPending ? 'Rotating…' : 'Make a new key'}
      pending={isPending}
      error={error}
      onConfirm={() => mutate()}
      onCancel={onDone}
    >
      <p>The current key stops working the moment the new one is made: the device must be given the new key.</p>
    </Confirmation>
  );
}

function Decommission({ deviceId, onDone, onDecommissioned }: { deviceId: string; onDone: () => void; onDecommissioned: () => void }) {
  const [purge, setPurge] = useState(false);
  const { mutate, isPending, error } = useDecommissionDevice(deviceId);
  return (
    <Confirmation
      label={`Decommission ${deviceId}`}
      confirmLabel={isPending ? 'Decommissioning…' : `Decommission ${deviceId}`}
      pending={isPending}
      error={error}
      onConfirm={() => mutate(purge, { onSuccess: onDecommissioned })}
      onCancel={onDone}
    >
      <p>{deviceId} leaves the fleet and its new readings are rejected. Its history stays unless it is purged too.</p>
      <label className="flex items-center gap-2">
        <input type="checkbox" checked={purge} onChange={(event) => setPurge(event.target.checked)} />
        Also delete its readings, alerts and rejected messages (in the background)
      </label>
    </Confirmation>
  );
}

/** Staff tools of the device page: edit its fields, rotate its key, decommission it. */
export function DeviceManagement({ deviceId, onDecommissioned }: { deviceId: string; onDecommissioned: () => void }) {
  const [mode, setMode] = useState<Mode>('idle');
  const idle = () => setMode('idle');
  if (mode === 'edit') return <EditDevice deviceId={deviceId} onDone={idle} />;
  if (mode === 'rotate') return <RotateKey deviceId={deviceId} onDone={idle} />;
  if (mode === 'decommission') return <Decommission deviceId={deviceId} onDone={idle} onDecommissioned={onDecommissioned} />;
  return (
    <div className="flex flex-wrap gap-2">
      <button type="button" className={secondary} onClick={() => setMode('edit')}>
        Edit
      </button>
      <button type="button" className={secondary} onClick={() => setMode('rotate')}>
        Rotate key
      </button>
      <button type="button" className={secondary} onClick={() => setMode('decommission')}>
        Decommission
      </button>
    </div>
  );
}
