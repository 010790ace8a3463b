import { ErrorMessage } from '@/components/ui/error-message';
import { SkeletonBlock } from '@/components/ui/skeleton';
import type { EffectiveRules } from '@/types/api';
import { useDeviceRule } from '../api/get-device-rule';

const FIELDS: readonly { key: keyof EffectiveRules; label: string; unit: string }[] = [
  { key: 'high_temp_threshold', label: 'High temperature above', unit: '°C' },
  { key: 'high_temp_hysteresis', label: 'High temperature hysteresis', unit: '°C' },
  { key: 'offline_after_seconds', label: 'Offline after', unit: 's' },
  { key: 'low_battery_percent', label: 'Low battery below', unit: '%' },
  { key: 'low_battery_hysteresis', label: 'Low battery hysteresis', unit: 'points' },
  { key: 'anomaly_z', label: 'Anomaly beyond', unit: 'σ' },
];

const SOURCES = { device: 'this device', device_type: 'device type', default: 'default' } as const;

/** The thresholds in force for a device and where each is set, read-only. */
export function DeviceRules({ deviceId }: { deviceId: string }) {
  const { data, error, isPending } = useDeviceRule(deviceId);
  if (isPending) return <SkeletonBlock label="Loading alert rules" lines={3} />;
  if (!data) return <ErrorMessage error={error} what="the alert rules" />;
  return (
    <dl aria-label={`Alert rules of ${deviceId}`} className="grid grid-cols-1 gap-x-6 gap-y-1 text-sm sm:grid-cols-2">
      {FIELDS.map(({ key, label, unit }) => {
        const { value, source } = data.effective[key];
        return (
          <div key={key} className="flex justify-between gap-3 border-b border-slate-100 py-1 dark:border-slate-800">
            <dt className="text-slate-600 dark:text-slate-400">{label}</dt>
            <dd className="text-right font-medium">
              {value} {unit}{' '}
              <span className="text-xs font-normal text-slate-500 dark:text-slate-400">({SOURCES[source] ?? source})</span>
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
