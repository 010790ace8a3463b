import { createBrowserRouter, type RouteObject } from 'react-router';
import { AlertsPage } from './routes/alerts';
import { FleetPage } from './routes/fleet';
import { NotFoundPage } from './routes/not-found';
import { RejectionsPage } from './routes/rejections';
import { RootErrorBoundary, RootFallback, RootLayout } from './routes/root';

/** The app's routes; the device page (with Chart.js) is a separate chunk loaded on demand. */
export const routes: RouteObject[] = [
  {
    path: '/',
    Component: RootLayout,
    HydrateFallback: RootFallback,
    ErrorBoundary: RootErrorBoundary,
    children: [
      { index: true, Component: FleetPage },
      { path: 'devices/:deviceId', lazy: () => import('./routes/device') },
      { path: 'alerts', Component: AlertsPage },
      { path: 'rejections', Component: RejectionsPage },
      { path: '*', Component: NotFoundPage },
    ],
  },
];

/** The browser router for the real app. */
export function createAppRouter() {
  return createBrowserRouter(routes);
}
