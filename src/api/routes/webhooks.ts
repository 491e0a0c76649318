import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { badRequest, notFound } from '../errors.js';
import { Nullable, NullableTimestamp, PageFields, PageQuery, Timestamp, errors } from '../schemas/common.js';
import { FLEET_EVENT_TYPES } from '../../store/fleet-events.js';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  updateEndpoint,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../store/webhooks.js';
import { generateSecret, isValidSecret } from '../../events/webhooks/signing.js';
import { WebhookTargetError } from '../../events/webhooks/target.js';
import { newId } from '../../ids.js';

const Endpoint = Type.Object({
  id: Type.String({ description: 'Endpoint id (whe_…).' }),
  url: Type.String(),
  events: Type.Array(Type.String(), { description: 'Event types delivered; ["*"] for all.' }),
  description: Nullable(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('disabled')], {
    description: 'active; paused (enabled: false); disabled after a 410 or sustained failure (PATCH enabled: true resumes).',
  }),
  enabled: Type.Boolean(),
  disabled_reason: Nullable(Type.String({ description: 'gone (the receiver answered 410) or failing (failed for DYNAMO_WEBHOOKS_DISABLE_AFTER).' })),
  disabled_at: NullableTimestamp,
  failing_since: { ...NullableTimestamp, description: 'Start of the current run of failed attempts; null while deliveries succeed.' },
  created_at: Timestamp,
  updated_at: Timestamp,
});
const CreatedEndpoint = Type.Object({
  ...Endpoint.properties,
  secret: Type.String({ description: 'The signing secret (whsec_…). Shown only in this answer.' }),
});
const Attempt = Type.Object({
  at: Timestamp,
  status_code: Nullable(Type.Integer()),
  latency_ms: Type.Integer(),
  error: Nullable(Type.String()),
});
const Delivery = Type.Object({
  id: Type.String({ description: 'Delivery id (whd_…).' }),
  event_id: Nullable(Type.String({ description: 'The event id (the envelope id, the webhook-id header); null for a test.' })),
  event: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')], {
    description: 'pending: being retried; delivered; failed: given up (the endpoint was disabled) or a failed test.',
  }),
  attempts: Type.Integer(),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  last_latency_ms: Nullable(Type.Integer()),
  next_attempt_at: NullableTimestamp,
  attempt_log: Type.Array(Attempt, { description: 'The latest attempts (at most 10), oldest first.' }),
  created_at: Timestamp,
  delivered_at: NullableTimestamp,
});

const EVENT_CHOICES = [...FLEET_EVENT_TYPES, '*'] as const;
const Events = Type.Array(Type.String({ maxLength: 64 }), {
  minItems: 1,
  maxItems: EVENT_CHOICES.length,
  uniqueItems: true,
  description: `Event types to deliver (${FLEET_EVENT_TYPES.join(', ')}), or ["*"] for all.`,
});
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'https URL that receives POSTs (http only with DYNAMO_WEBHOOKS_ALLOW_HTTP).' });
const Description = Nullable(Type.String({ maxLength: 500 }));
const Params = Type.Object({ endpoint_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

const TARGET_CODES: Record<WebhookTargetError['reason'], string> = {
  invalid_url: 'invalid_parameter',
  scheme: 'webhook_url_scheme',
  credentials: 'webhook_url_credentials',
  forbidden_address: 'webhook_target_forbidden',
  unresolvable: 'webhook_target_unresolvable',
};

function checkEvents(events: string[] | undefined): void {
  if (!events) return;
  const unknown = events.find((e) => !(EVENT_CHOICES as readonly string[]).includes(e));
  if (unknown) throw badRequest('events', `unknown event type "${unknown}"; known: ${FLEET_EVENT_TYPES.join(', ')}, or "*" for all`);
  if (events.includes('*') && events.length > 1) throw badRequest('events', '"*" already means every event type: send ["*"] alone');
}

const view = (e: WebhookEndpoint) => ({
  id: e.endpoint_id,
  url: e.url,
  events: e.events,
  description: e.description,
  status: e.status,
  enabled: e.status !== 'paused',
  disabled_reason: e.disabled_reason,
  disabled_at: e.disabled_at,
  failing_since: e.failing_since,
  created_at: e.created_at,
  updated_at: e.updated_at,
});

const deliveryView = (d: WebhookDelivery) => ({
  id: d.delivery_id,
  event_id: d.event_id,
  event: d.event,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.last_status_code,
  last_error: d.last_error,
  last_latency_ms: d.last_latency_ms,
  next_attempt_at: d.next_attempt_at,
  attempt_log: d.attempt_log.map((a) => ({ ...a, at: new Date(a.at) })),
  created_at: d.created_at,
  delivered_at: d.delivered_at,
});

export async function webhookRoutes(app: App, deps: ApiDeps) {
  const { db, webhooks } = deps;
  const auth = { auth: { role: 'tenant' as const, scope: 'write:webhooks' as const } };
  const checkUrl = async (url: string | undefined) => {
    if (url === undefined) return;
    try {
      await webhooks.checkUrl(url);
    } catch (err) {
      if (err instanceof WebhookTargetError) throw badRequest('url', err.message, TARGET_CODES[err.reason]);
      throw err;
    }
  };
  const mine = async (tenantId: string, endpointId: string) => {
    const e = await getEndpoint(db, tenantId, endpointId);
    if (!e) throw notFound('webhook endpoint', 'endpoint_id');
    return e;
  };

  app.post(
    '/api/v1/webhooks/endpoints',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'Create a webhook endpoint',
        description:
          'Events after this moment are POSTed to the URL, signed (X-Dynamo-Signature and Standard Webhooks headers), ' +
          'in order, at least once. The answer carries the signing secret, generated when none is given; it is never shown again.',
        body: Type.Object(
          {
            url: Url,
            events: Events,
            secret: Type.Optional(Type.String({ maxLength: 200, description: 'whsec_ + base64 of 24–64 random bytes; generated when omitted.' })),
            description: Type.Optional(Description),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedEndpoint, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      checkEvents(b.events);
      if (b.secret !== undefined && !isValidSecret(b.secret)) {
        throw badRequest('secret', 'secret must be "whsec_" followed by the base64 of 24 to 64 random bytes (the Standard Webhooks form)');
      }
      await checkUrl(b.url);
      const secret = b.secret ?? generateSecret();
      const endpointId = newId('whe');
      const e = await createEndpoint(db, {
        endpointId,
        tenantId: tenantOf(req),
        url: b.url,
        events: b.events,
        description: b.description ?? null,
        sealedSecret: webhooks.sealSecret(secret, endpointId),
      });
      await webhooks.changed();
      return reply.code(201).send({ ...view(e), secret });
    },
  );

  app.get(
    '/api/v1/webhooks/endpoints',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: "List the tenant's webhook endpoints",
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Type.Object({ endpoints: Type.Array(Endpoint), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { rows, total } = await listEndpoints(db, tenantOf(req), req.query);
      return { endpoints: rows.map(view), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/api/v1/webhooks/endpoints/:endpoint_id',
    { config: auth, schema: { tags: ['webhooks'], summary: 'Get a webhook endpoint', params: Params, response: { 200: Endpoint, ...errors(401, 403, 404) } } },
    async (req) => view(await mine(tenantOf(req), req.params.endpoint_id)),
  );

  app.patch(
    '/api/v1/webhooks/endpoints/:endpoint_id',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook endpoint, pause it (enabled: false) or resume it (enabled: true)',
        description:
          'Resuming, also after the endpoint was disabled, continues from the first event not delivered (within the event log retention).',
        params: Params,
        body: Type.Object(
          { url: Type.Optional(Url), events: Type.Optional(Events), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Endpoint, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      await mine(tenantId, req.params.endpoint_id);
      checkEvents(req.body.events);
      await checkUrl(req.body.url);
      const e = await updateEndpoint(db, tenantId, req.params.endpoint_id, req.body);
      if (!e) throw notFound('webhook endpoint', 'endpoint_id');
      await webhooks.changed();
      return view(e);
    },
  );

  app.delete(
    '/api/v1/webhooks/endpoints/:endpoint_id',
    {
      config: auth,
      schema: { tags: ['webhooks'], summary: 'Delete a webhook endpoint and its delivery records', params: Params, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
    },
    async (req, reply) => {
      if (!(await deleteEndpoint(db, tenantOf(req), req.params.endpoint_id))) throw notFound('webhook endpoint', 'endpoint_id');
      await webhooks.changed();
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/webhooks/endpoints/:endpoint_id/deliveries',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: "An endpoint's deliveries, newest first: attempts, status codes, latency, next retry",
        params: Params,
        querystring: Type.Object(
          { ...PageQuery, status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ deliveries: Type.Array(Delivery), ...PageFields }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const e = await mine(tenantOf(req), req.params.endpoint_id);
      const { rows, total } = await listDeliveries(db, e.endpoint_id, req.query);
      return { deliveries: rows.map(deliveryView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.post(
    '/api/v1/webhooks/endpoints/:endpoint_id/test',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'Send a signed test message (webhook_endpoint.test) now and return its outcome',
        description: 'Not an event of the log: not retried, and it does not move the endpoint’s position. Recorded among its deliveries.',
        params: Params,
        response: { 200: Delivery, ...errors(401, 403, 404) },
      },
    },
    async (req) => deliveryView(await webhooks.test(await mine(tenantOf(req), req.params.endpoint_id))),
  );
}
