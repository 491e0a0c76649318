import { Registry } from 'prom-client';
import { buildHttpApp } from './server.js';
import type { Db } from '../store/db.js';

/**
 * The OpenAPI document of this build, without a database or a listening socket: the routes
 * are registered exactly as the service registers them and never called. Used by
 * `dynamo openapi` and to generate the dashboard's API types (scripts/web-types.mjs).
 */
export async function openapiDocument(): Promise<Record<string, unknown>> {
  const inert = async () => {
    throw new Error('the OpenAPI document is built without a database');
  };
  const app = await buildHttpApp(
    {
      db: { kind: 'postgres', query: inert } as unknown as Db,
      fleetQueryParts: 1,
      adminKeyHash: '0'.repeat(64),
      metrics: new Registry(),
      chargers: { disconnect: inert },
      // Registration reads none of these; a handler that would use one is never called here.
      events: { feed: {} as never, maxQueuedPerClient: 1, heartbeatMs: 15_000, keyCheckMs: 5_000, flushMs: 0 },
      webhooks: {} as never,
      commands: {} as never,
      maintenance: { changed: () => {} } as never,
      rateLimitPerMinute: 1,
      authFailuresPerMinute: 1,
    },
    { logger: undefined, trustProxy: false, timeouts: { headersSec: 20, requestSec: 120, keepAliveSec: 72 } },
  );
  await app.ready();
  const doc = app.swagger() as unknown as Record<string, unknown>;
  await app.close();
  return doc;
}
