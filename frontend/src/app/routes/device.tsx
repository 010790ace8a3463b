import { useCallback } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { EmptyState } from '@/components/ui/empty-state';
import { Panel } from '@/components/ui/panel';
import { AlertsView } from '@/features/alerts/components/alerts-view';
import { useConfig } from '@/features/config/api/get-config';
import { DeviceManagement } from '@/features/devices/components/device-management';
import { DeviceSummary } from '@/features/devices/components/device-summary';
import { RejectionsView } from '@/features/rejections/components/rejections-view';
import { DeviceRules } from '@/features/rules/components/device-rules';
import { ExportLink } from '@/features/telemetry/components/export-link';
import { TelemetryCharts } from '@/features/telemetry/components/telemetry-charts';
import { WindowSelector } from '@/features/telemetry/components/window-selector';
import { WindowStats } from '@/features/telemetry/components/window-stats';
import { describeWindow, parseWindow } from '@/features/telemetry/utils/windows';
import type { SeriesWindow } from '@/types/api';

/** One device: summary, staff tools, window stats, live charts, download, alarms, rules and rejections (?window=1h). */
export function DevicePage() {
  const { deviceId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const window = parseWindow(params.get('window'));
  const { data: config } = useConfig();
  const threshold = config?.high_temp_threshold;
  const navigate = useNavigate();
  const onDecommissioned = useCallback(() => navigate('/'), [navigate]);

  const onWindowChange = useCallback(
    (value: SeriesWindow) =>
      setParams(
        (previous) => {
          const next = new URLSearchParams(previous);
          if (value === '5m') next.delete('window');
          else next.set('window', value);
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );

  return (
    <div className="space-y-6">
      <title>{`${deviceId} · Telemetry`}</title>
      <nav aria-label="Breadcrumb" className="text-sm">
        <Link to="/" className="text-sky-700 hover:underline dark:text-sky-400">
          ← Fleet
        </Link>
      </nav>
      <DeviceSummary deviceId={deviceId} threshold={threshold} />
      {config?.user?.is_staff && (
        <Panel title="Manage this device">
          <DeviceManagement deviceId={deviceId} onDecommissioned={onDecommissioned} />
        </Panel>
      )}
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 className="text-lg font-semibold">Readings, {describeWindow(window)}</h2>
        <div className="flex flex-wrap items-center gap-3">
          <ExportLink deviceId={deviceId} window={window} />
          <WindowSelector value={window} onChange={onWindowChange} />
        </div>
      </div>
      <WindowStats deviceId={deviceId} window={window} />
      <TelemetryCharts
        deviceId={deviceId}
        window={window}
        threshold={threshold}
        offlineAfterSeconds={config?.offline_after_seconds}
      />
      <Panel title="Active alarms">
        <AlertsView
          deviceId={deviceId}
          status="ACTIVE"
          limit={50}
          showDevice={false}
          label={`Active alarms of ${deviceId}`}
          empty={<EmptyState title="No active alarms" />}
        />
      </Panel>
      <Panel
        title="Recent alerts"
        actions={
          <Link
            to={`/alerts?device=${encodeURIComponent(deviceId)}`}
            className="text-sm text-sky-700 hover:underline dark:text-sky-400"
          >
            All alerts of {deviceId}
          </Link>
        }
      >
        <AlertsView
          deviceId={deviceId}
          limit={10}
          showDevice={false}
          label={`Recent alerts of ${deviceId}`}
          empty={<EmptyState title="No alerts for this device" />}
        />
      </Panel>
      <Panel title="Alert rules in force">
        <DeviceRules deviceId={deviceId} />
      </Panel>
      <Panel
        title="Rejected messages"
        actions={
          <Link to="/rejections" className="text-sm text-sky-700 hover:underline dark:text-sky-400">
            All rejected messages
          </Link>
        }
      >
        <RejectionsView
          deviceId={deviceId}
          limit={20}
          label={`Rejected messages of ${deviceId}`}
          empty={<EmptyState title="No rejected messages from this device" />}
        />
      </Panel>
    </div>
  );
}

export { DevicePage as Component };
