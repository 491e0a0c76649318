import Fastify, { type FastifyServerOptions } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { fastifySSE } from '@fastify/sse';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Histogram } from 'prom-client';
import type { ApiDeps, App } from './types.js';
import { PUBLIC, rateLimitKey, registerAuth } from './auth.js';
import { ErrorResponse } from './schemas/common.js';
import { formatsPlugin } from './schemas/formats.js';
import { registerApiTimestamps } from './schemas/timestamps.js';
import { clientErrorHandler, errorBody, errorHandler, frameworkErrors, notFoundHandler } from './errors.js';
import { rejectNulBytes } from './nul-guard.js';
import { healthRoutes } from './routes/health.js';
import { adminRoutes } from './routes/admin.js';
import { siteRoutes } from './routes/sites.js';
import { chargerRoutes } from './routes/chargers.js';
import { fleetRoutes } from './routes/fleet.js';
import { chargerHistoryRoutes } from './routes/charger-history.js';
import { eventRoutes } from './routes/events.js';
import { alertRoutes } from './routes/alerts.js';
import { webhookRoutes } from './routes/webhooks.js';
import { commandRoutes } from './routes/commands.js';
import { sessionRoutes } from './routes/sessions.js';
import { messageLogRoutes } from './routes/messages.js';
import { reliabilityRoutes } from './routes/reliability.js';
import { nodeRoutes } from './routes/nodes.js';
import { apiKeyRoutes } from './routes/api-key.js';
import { dashboardRoutes } from './routes/dashboard.js';

const BODY_LIMIT = 256 * 1024;

/** How long a client may take (seconds); Node's HTTP server enforces them (README, configuration). */
export interface HttpTimeouts {
  /** Until the request headers are complete, from the connection or the end of the previous request. */
  headersSec: number;
  /** Until the whole request (headers and body) is received. */
  requestSec: number;
  /** An idle keep-alive connection between requests. */
  keepAliveSec: number;
}

export interface HttpOptions {
  logger: FastifyServerOptions['loggerInstance'];
  trustProxy: boolean;
  /** An https server factory when TLS is configured. */
  serverFactory?: FastifyServerOptions['serverFactory'];
  https?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert?: boolean; rejectUnauthorized?: boolean } | null;
  timeouts: HttpTimeouts;
}

/** Builds the Fastify app: REST API, docs, health and metrics. Not listening yet. */
export async function buildHttpApp(deps: ApiDeps, opts: HttpOptions): Promise<App> {
  const t = opts.timeouts;
  // Node checks the header and request deadlines only every connectionsCheckingInterval
  // (30 s by default): check often enough that a deadline holds to within a quarter of itself.
  const nodeServer = {
    headersTimeout: t.headersSec * 1000,
    requestTimeout: t.requestSec * 1000,
    connectionsCheckingInterval: Math.min(5000, Math.max(250, (t.headersSec * 1000) / 4)),
  };
  const app = Fastify({
    loggerInstance: opts.logger,
    trustProxy: opts.trustProxy,
    bodyLimit: BODY_LIMIT,
    requestIdHeader: 'x-request-id',
    keepAliveTimeout: t.keepAliveSec * 1000,
    requestTimeout: t.requestSec * 1000,
    ...(opts.https ? { https: { ...opts.https, ...nodeServer } } : { http: nodeServer }),
    clientErrorHandler,
    frameworkErrors,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false }, plugins: [formatsPlugin] },
  } as FastifyServerOptions).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.addSchema(ErrorResponse);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('preValidation', rejectNulBytes);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  const duration = new Histogram({
    name: 'dynamo_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [deps.metrics],
  });
  app.addHook('onResponse', async (req, reply) => {
    duration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(rateLimit, {
    global: true,
    max: deps.rateLimitPerMinute,
    timeWindow: 60_000,
    // Runs after authentication (route-level hook): counted per resolved key, however the key
    // was spelled in the header; unauthenticated routes per address.
    keyGenerator: rateLimitKey,
    // The bucket names a key id or an address, never a secret.
    onExceeded: (req, key) => req.log.warn({ bucket: key, remoteAddress: req.ip }, 'rate limit exceeded'),
    errorResponseBuilder: (req, ctx) => ({
      statusCode: 429,
      ...errorBody(req, 429, 'rate_limited', `rate limit of ${ctx.max} requests per minute exceeded; retry in ${Math.ceil(ctx.ttl / 1000)} s`, null),
    }),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Dynamo CSMS API',
        version: '1.0.0',
        description:
          'Fleet dashboard API (v1) and administration of tenants, keys, sites and chargers. Errors share one shape: {"error": {status, code, message, parameter, request_id}}.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API key as a Bearer token' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKeyHeader: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (json.$id as string) ?? `def-${i}` },
  });
  // From here on every route must declare its auth requirement (deny by default); the docs are public.
  registerAuth(app as never, { db: deps.db, adminKeyHash: deps.adminKeyHash, authFailuresPerMinute: deps.authFailuresPerMinute });
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => void (route.config = { ...route.config, ...PUBLIC }));
    await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  });
  app.get('/openapi.json', { config: { rateLimit: false, ...PUBLIC }, schema: { hide: true } }, async () => app.swagger());

  // Stream messages are written as frames made once per event (sse-frames.ts); the serializer only
  // meets what the plugin sends itself.
  await app.register(fastifySSE, { heartbeatInterval: deps.events.heartbeatMs, serializer: (d: unknown) => (typeof d === 'string' ? d : JSON.stringify(d)) });
  registerApiTimestamps(app as never);
  await app.register(async (scope) => {
    await healthRoutes(scope as App, deps);
    await adminRoutes(scope as App, deps);
    await siteRoutes(scope as App, deps);
    await chargerRoutes(scope as App, deps);
    await fleetRoutes(scope as App, deps);
    await chargerHistoryRoutes(scope as App, deps);
    await eventRoutes(scope as App, deps);
    await alertRoutes(scope as App, deps);
    await webhookRoutes(scope as App, deps);
    await commandRoutes(scope as App, deps);
    await sessionRoutes(scope as App, deps);
    await messageLogRoutes(scope as App, deps);
    await reliabilityRoutes(scope as App, deps);
    await nodeRoutes(scope as App, deps);
    await apiKeyRoutes(scope as App, deps);
  });
  await dashboardRoutes(app);
  return app;
}
