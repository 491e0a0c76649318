/**
 * Which routes this service offers, from its own OpenAPI document (public, fetched once).
 * Pages and sections that stand on newer routes (events, alerts, commands, sessions, the
 * message log) declare them and stay hidden on a service that lacks them.
 */
export interface Features {
  has(route: string): boolean;
}

/** `route` is "METHOD /path/{param}", as the OpenAPI document spells paths. */
export function featuresOf(doc: { paths?: Record<string, Record<string, unknown>> }): Features {
  const routes = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const method of Object.keys(ops)) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return { has: (route) => routes.has(route) };
}

export async function loadFeatures(): Promise<Features> {
  const res = await fetch('/openapi.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/openapi.json answered ${res.status}`);
  return featuresOf(await res.json());
}
