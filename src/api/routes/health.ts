import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { errorBody } from '../errors.js';
import { PUBLIC } from '../auth.js';

export async function healthRoutes(app: App, deps: ApiDeps) {
  app.get(
    '/healthz',
    {
      config: { rateLimit: false, ...PUBLIC },
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up and its event loop answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { rateLimit: false, ...PUBLIC },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database answers and the node is not draining',
        response: { 200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }), 503: Type.Ref('Error') },
      },
    },
    async (req, reply) => {
      if (deps.draining?.()) return reply.code(503).send(errorBody(req, 503, 'draining', 'this node is shutting down; its chargers are moving to other nodes', null));
      try {
        await Promise.race([
          deps.db.query('SELECT 1'),
          new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000).unref()),
        ]);
        return { status: 'ready' as const, database: deps.db.kind };
      } catch {
        return reply.code(503).send(errorBody(req, 503, 'database_unavailable', 'the database does not answer', null));
      }
    },
  );

  app.get(
    '/metrics',
    { config: { rateLimit: false, ...PUBLIC }, schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: false } },
    async (_req, reply) => {
      reply.header('content-type', deps.metrics.contentType);
      return deps.metrics.metrics();
    },
  );
}
