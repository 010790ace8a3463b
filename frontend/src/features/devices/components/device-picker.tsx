import { useEffect, useId, useState, type FormEvent } from 'react';
import { useDebouncedValue } from '@/lib/use-debounced-value';
import { useDeviceSearch } from '../api/search-devices';
import { inputClass } from './device-fields-form';

/** How long typing must pause before the API is asked for suggestions. */
const TYPING_PAUSE_MS = 300;

interface Props {
  label: string;
  /** The device chosen, or undefined for every device. */
  value: string | undefined;
  onChange: (deviceId: string | undefined) => void;
}

/**
 * A device id box whose suggestions come from the server's prefix search, so that a fleet of
 * any size costs one small request per pause in typing. A suggestion picked (or typed out) is
 * chosen at once; Enter chooses what is typed; an empty box means every device.
 */
export function DevicePicker({ label, value, onChange }: Props) {
  const [text, setText] = useState(value ?? '');
  const listId = useId();
  // The choice can also change from outside (the URL, a link): the box follows it.
  useEffect(() => setText(value ?? ''), [value]);
  const prefix = useDebouncedValue(text.trim(), TYPING_PAUSE_MS);
  const { data: suggestions = [] } = useDeviceSearch(prefix);

  const choose = (typed: string) => {
    const id = typed.trim() || undefined;
    if (id !== value) onChange(id);
  };
  const type = (typed: string) => {
    setText(typed);
    if (typed.trim() === '' || suggestions.some((device) => device.device_id === typed.trim())) choose(typed);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    choose(text);
  };

  return (
    <form role="search" aria-label={`${label} filter`} onSubmit={submit}>
      <label className="flex flex-col gap-1 text-sm font-medium text-slate-700 dark:text-slate-300">
        {label}
        <input
          type="text"
          list={listId}
          value={text}
          placeholder="All devices"
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => type(event.target.value)}
          // Leaving the box with an unfinished id shows the device still chosen.
          onBlur={() => setText(value ?? '')}
          className={`${inputClass} sm:w-56`}
        />
      </label>
      <datalist id={listId}>
        {suggestions.map((device) => (
          <option key={device.device_id} value={device.device_id}>
            {device.name || undefined}
          </option>
        ))}
      </datalist>
    </form>
  );
}
