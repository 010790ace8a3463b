import { Outlet, isRouteErrorResponse, useRouteError } from 'react-router';
import { AppLayout } from '@/components/layout/app-layout';
import { SkeletonBlock } from '@/components/ui/skeleton';
import { OpenCriticalCount } from '@/features/alerts/components/open-critical-count';
import { HealthBanner } from '@/features/health/components/health-banner';
import { HealthIndicator } from '@/features/health/components/health-indicator';
import { IngestRateSparkline } from '@/features/ingest-rate/components/ingest-rate-sparkline';

/** The frame every page renders in. */
export function RootLayout() {
  return (
    <AppLayout
      health={<HealthIndicator />}
      alarms={<OpenCriticalCount />}
      ingestRate={<IngestRateSparkline />}
      banner={<HealthBanner />}
    >
      <Outlet />
    </AppLayout>
  );
}

/** Shown while a lazily loaded page's code arrives on first load. */
export function RootFallback() {
  return (
    <AppLayout health={null} banner={null}>
      <SkeletonBlock label="Loading the page" lines={6} />
    </AppLayout>
  );
}

/** A page that crashed while rendering, in words, with a way out. */
export function RootErrorBoundary() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : 'Unknown error';
  return (
    <AppLayout
      health={<HealthIndicator />}
      alarms={<OpenCriticalCount />}
      ingestRate={<IngestRateSparkline />}
      banner={<HealthBanner />}
    >
      <div role="alert" className="space-y-2">
        <h1 className="text-xl font-bold">This page failed to render</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">{message}</p>
        <a href="/" className="text-sky-700 underline dark:text-sky-400">
          Back to the fleet
        </a>
      </div>
    </AppLayout>
  );
}
