import type { ComponentType } from 'preact';

/**
 * The dashboard is assembled from modules. A page module owns a route; a section module adds
 * a panel to the charger page. Each declares the scope its reads need and the API routes it
 * stands on ("METHOD /path" as in /openapi.json): a module whose routes this service does not
 * offer is left out, so a page can be written before its endpoint ships and appears with it.
 * Modules load on demand (their code is a chunk of its own), keeping the first page small.
 */
export interface PageProps {
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface PageModule {
  id: string;
  /** Route pattern, e.g. /chargers/:id. */
  path: string;
  title: string;
  nav?: { label: string; order: number };
  scope?: string;
  routes: string[];
  load: () => Promise<{ default: ComponentType<PageProps> }>;
}

export interface SectionProps {
  chargePointId: string;
}

export interface SectionModule {
  id: string;
  title: string;
  order: number;
  scope?: string;
  routes: string[];
  load: () => Promise<{ default: ComponentType<SectionProps> }>;
}

export const PAGES: PageModule[] = [
  {
    id: 'overview',
    path: '/',
    title: 'Fleet overview',
    nav: { label: 'Overview', order: 1 },
    scope: 'read:charge_points',
    routes: ['GET /api/v1/cpo/fleet/summary'],
    load: () => import('./pages/overview'),
  },
  {
    id: 'chargers',
    path: '/chargers',
    title: 'Chargers',
    nav: { label: 'Chargers', order: 2 },
    scope: 'read:charge_points',
    routes: ['GET /api/v1/cpo/fleet/chargers'],
    load: () => import('./pages/chargers'),
  },
  {
    id: 'charger',
    path: '/chargers/:id',
    title: 'Charger',
    scope: 'read:charge_points',
    routes: ['GET /api/v1/cpo/chargers/{charge_point_id}/diagnostics'],
    load: () => import('./pages/charger'),
  },
  {
    // No page-wide scope: alerts and rules need read:alerts, webhooks write:webhooks; each part says what it lacks.
    id: 'alerts',
    path: '/alerts',
    title: 'Alerts',
    nav: { label: 'Alerts', order: 3 },
    routes: ['GET /api/v1/cpo/alerts', 'GET /api/v1/cpo/alert-rules'],
    load: () => import('./pages/alerts'),
  },
];

export const CHARGER_SECTIONS: SectionModule[] = [
  {
    id: 'timeline',
    title: 'Connectivity timeline',
    order: 10,
    scope: 'read:charge_points',
    routes: ['GET /api/v1/cpo/chargers/{charge_point_id}/connectivity', 'GET /api/v1/cpo/chargers/{charge_point_id}/error-history'],
    load: () => import('./sections/timeline'),
  },
  {
    id: 'utilisation',
    title: 'Utilisation, last 30 days',
    order: 20,
    scope: 'read:charge_points',
    routes: ['GET /api/v1/cpo/fleet/utilisation'],
    load: () => import('./sections/utilisation'),
  },
  {
    id: 'errors',
    title: 'Error history',
    order: 30,
    scope: 'read:charge_points',
    routes: ['GET /api/v1/cpo/chargers/{charge_point_id}/error-history'],
    load: () => import('./sections/errors'),
  },
  {
    id: 'maintenance',
    title: 'Maintenance',
    order: 40,
    scope: 'read:maintenance',
    routes: ['GET /api/v1/cpo/chargers/{charge_point_id}/maintenance'],
    load: () => import('./sections/maintenance'),
  },
  // Written ahead of their endpoints (issue 12); they appear once the service lists the routes.
  {
    id: 'commands',
    title: 'Commands',
    order: 5,
    routes: ['POST /api/v1/cpo/commands/{charge_point_id}'],
    load: () => import('./sections/commands'),
  },
  {
    id: 'sessions',
    title: 'Sessions',
    order: 35,
    scope: 'read:sessions',
    routes: ['GET /api/v1/cpo/sessions'],
    load: () => import('./sections/sessions'),
  },
  {
    id: 'messages',
    title: 'OCPP message log',
    order: 50,
    scope: 'read:messages',
    routes: ['GET /api/v1/cpo/chargers/{charge_point_id}/messages'],
    load: () => import('./sections/messages'),
  },
];

/** Modules this service can serve, in order. */
export function available<T extends { routes: string[] }>(modules: T[], has: (route: string) => boolean): T[] {
  return modules.filter((m) => m.routes.every(has));
}
