import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, describeError } from '@/lib/api-client';
import type { Device, DeviceFields } from '@/types/api';

/** The fields a form edits; device_id only when registering. */
export type FieldName = 'device_id' | 'name' | 'device_type' | 'location' | 'metadata';

const LABELS: Record<FieldName, string> = {
  device_id: 'Device id',
  name: 'Name',
  device_type: 'Device type',
  location: 'Location',
  metadata: 'Metadata (JSON object)',
};

export const inputClass =
  'w-full rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 focus:border-sky-500 focus:outline-none aria-invalid:border-red-500 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100';

/** The form's error for one field, or for the whole form (`field` undefined). */
export interface FormError {
  field?: FieldName;
  message: string;
}

/** Puts a failed write into words on the field the API named (a 400), or on the form. */
export function formError(error: unknown, fields: readonly FieldName[], conflict = 'id taken'): FormError {
  if (error instanceof ApiError) {
    const field = fields.find((name) => name === error.field);
    if (error.status === 409) return { field: 'device_id', message: `${conflict}: ${error.message}` };
    if (error.status === 400 && field) return { field, message: error.message };
    if (error.status === 401 || error.status === 403) return { message: 'Only a signed-in staff user can do this: sign in at /admin/.' };
  }
  return { message: describeError(error) };
}

/** Reads the metadata box: a JSON object (empty means {}), or the metadata field's error. */
export function parseMetadata(text: string): { metadata: DeviceFields['metadata'] } | { error: FormError } {
  if (text.trim() === '') return { metadata: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return { metadata: value as DeviceFields['metadata'] };
    }
  } catch {
    // Reported below, as for any value that is not an object.
  }
  return { error: { field: 'metadata', message: 'must be a JSON object, e.g. {"floor": 2}' } };
}

export type FieldValues = Record<FieldName, string>;

export function initialValues(device?: Pick<Device, 'device_id' | 'name' | 'device_type' | 'location' | 'metadata'>): FieldValues {
  return {
    device_id: device?.device_id ?? '',
    name: device?.name ?? '',
    device_type: device?.device_type ?? '',
    location: device?.location ?? '',
    metadata: JSON.stringify(device?.metadata ?? {}, null, device && Object.keys(device.metadata).length ? 2 : 0),
  };
}

/** A labelled form over some device fields, with each error under the field it names. */
export function DeviceFieldsForm({
  label,
  fields,
  initial,
  error,
  submitLabel,
  pending,
  onSubmit,
  children,
}: {
  label: string;
  fields: readonly FieldName[];
  initial: FieldValues;
  error: FormError | null;
  submitLabel: string;
  pending: boolean;
  onSubmit: (values: FieldValues) => void;
  children?: ReactNode;
}) {
  const [values, setValues] = useState(initial);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(values);
  };
  return (
    <form aria-label={label} onSubmit={submit} className="grid gap-3 sm:grid-cols-2" noValidate>
      {fields.map((field) => {
        const id = `${label}-${field}`.replace(/\s+/g, '-');
        const invalid = error?.field === field;
        const props = {
          id,
          value: values[field],
          'aria-invalid': invalid || undefined,
          'aria-describedby': invalid ? `${id}-error` : undefined,
          onChange: (event: { target: { value: string } }) => setValues((v) => ({ ...v, [field]: event.target.value })),
          className: `${inputClass} ${field === 'metadata' ? 'font-mono' : ''}`,
        };
        return (
          <div key={field} className={field === 'metadata' ? 'sm:col-span-2' : ''}>
            <label htmlFor={id} className="mb-1 block text-xs font-medium text-slate-600 dark:text-slate-400">
              {LABELS[field]}
            </label>
            {field === 'metadata' ? <textarea rows={3} {...props} /> : <input type="text" {...props} />}
            {invalid && (
              <p id={`${id}-error`} role="alert" className="mt-1 text-xs text-red-700 dark:text-red-300">
                {error.message}
              </p>
            )}
          </div>
        );
      })}
      {error && !error.field && (
        <p role="alert" className="text-sm text-red-700 sm:col-span-2 dark:text-red-300">
          {error.message}
        </p>
      )}
      <div className="flex flex-wrap gap-2 sm:col-span-2">
        <button
          type="submit"
          disabled={pending}
          className="rounded-lg bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-700 disabled:opacity-50"
        >
          {submitLabel}
        </button>
        {children}
      </div>
    </form>
  );
}

/** The body of a write from the form's values, or the metadata box's error when it is not an object. */
export function deviceBody(values: FieldValues, fields: readonly FieldName[]): { body: Record<string, unknown> } | { error: FormError } {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    if (field === 'metadata') {
      const parsed = parseMetadata(values.metadata);
      if ('error' in parsed) return parsed;
      body.metadata = parsed.metadata;
    } else {
      body[field] = values[field].trim();
    }
  }
  return { body };
}
