import { deviceCommands } from '../utils/device-commands';
import { CopyButton } from './copy-button';

function Line({ label, text }: { label: string; text: string }) {
  return (
    <div className="space-y-1">
      <p className="text-xs font-medium text-slate-600 dark:text-slate-400">{label}</p>
      <div className="flex items-start gap-2">
        <code className="block min-w-0 flex-1 rounded bg-slate-100 px-2 py-1 font-mono text-xs break-all text-slate-800 dark:bg-slate-800 dark:text-slate-100">
          {text}
        </code>
        <CopyButton text={text} label={`Copy ${label.toLowerCase()}`} />
      </div>
    </div>
  );
}

/** A device's new API key, shown this once, and the commands that send readings with it. */
export function DeviceCredentials({ deviceId, apiKey, onDone }: { deviceId: string; apiKey: string; onDone: () => void }) {
  const commands = deviceCommands({
    deviceId,
    apiKey,
    origin: window.location.origin,
    mqttHost: window.location.hostname,
  });
  return (
    <section
      aria-label={`API key of ${deviceId}`}
      className="space-y-3 rounded-xl border border-emerald-300 bg-emerald-50 p-4 text-sm dark:border-emerald-800 dark:bg-emerald-950"
    >
      <p className="font-semibold text-emerald-900 dark:text-emerald-100">
        The API key of {deviceId}. Copy it now: it is shown this once, and the server keeps only its hash.
      </p>
      <Line label="API key" text={apiKey} />
      <Line label="Send a reading with curl" text={commands.curl} />
      <Line label="Simulator over HTTP" text={commands.simulatorHttp} />
      <Line label="Simulator over MQTT" text={commands.simulatorMqtt} />
      <button
        type="button"
        onClick={onDone}
        className="rounded-lg bg-emerald-700 px-3 py-1.5 font-medium text-white hover:bg-emerald-800"
      >
        Done, I have copied the key
      </button>
    </section>
  );
}
