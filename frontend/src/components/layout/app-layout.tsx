import type { ReactNode } from 'react';
import { Link, NavLink } from 'react-router';

const navClass = ({ isActive }: { isActive: boolean }) =>
  `rounded-md px-2.5 py-1 text-sm font-medium transition-colors ${
    isActive
      ? 'bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900'
      : 'text-slate-700 hover:bg-slate-200 dark:text-slate-300 dark:hover:bg-slate-800'
  }`;

/** Page frame: header with navigation, alarm count, ingest rate and health, an optional banner, the page. */
export function AppLayout({
  health,
  alarms = null,
  ingestRate = null,
  banner,
  children,
}: {
  health: ReactNode;
  alarms?: ReactNode;
  ingestRate?: ReactNode;
  banner: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="min-h-screen bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100">
      <header className="sticky top-0 z-20 border-b border-slate-200 bg-white/95 backdrop-blur dark:border-slate-800 dark:bg-slate-900/95">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center justify-between gap-x-6 gap-y-2 px-4 py-2.5">
          <div className="flex items-center gap-4">
            <Link to="/" className="text-lg font-bold tracking-tight">
              Telemetry
            </Link>
            <nav aria-label="Main" className="flex gap-1">
              <NavLink to="/" end className={navClass}>
                Fleet
              </NavLink>
              <NavLink to="/alerts" className={navClass}>
                Alerts
              </NavLink>
              <NavLink to="/rejections" className={navClass}>
                Rejections
              </NavLink>
            </nav>
            {alarms}
          </div>
          <div className="flex flex-wrap items-center gap-x-6 gap-y-2">
            {ingestRate}
            {health}
          </div>
        </div>
      </header>
      {banner}
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </div>
  );
}
