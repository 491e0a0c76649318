import { once } from 'node:events';
import { Type } from 'typebox';
import { Gauge } from 'prom-client';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { RevokedKeyWatch } from '../revoked-key-watch.js';
import { badRequest, ServiceUnavailableError } from '../errors.js';
import { errors } from '../schemas/common.js';
import { ChargePointFilter, SiteFilter } from '../schemas/fleet.js';
import { FLEET_EVENT_TYPES } from '../../store/fleet-events.js';
import { fleetEventBatches, StreamOverflowError } from '../../events/event-stream.js';
import { EventFeedBehindError } from '../../events/event-feed.js';
import { sseFrames } from '../sse-frames.js';

const EVENT_ID = /^(0|[1-9]\d{0,18})$/;

// The envelope is made where the log is read (ENVELOPE_SQL, src/store/fleet-events.ts), for the stream and webhooks alike.

export async function eventRoutes(app: App, deps: ApiDeps) {
  const { db, events } = deps;
  const sseClients = new Gauge({ name: 'dynamo_sse_clients', help: 'Clients connected to the live event stream', registers: [deps.metrics] });
  const keys = new RevokedKeyWatch(db, events.keyCheckMs, app.log);
  app.addHook('onClose', async () => keys.stop());

  app.get(
    '/api/v1/cpo/events',
    {
      sse: 'only',
      config: { auth: { role: 'tenant', scope: 'read:events' } },
      schema: {
        tags: ['events'],
        summary: 'Live fleet events (Server-Sent Events), resumable with Last-Event-ID',
        description:
          'A text/event-stream of the durable event log (docs/events.md): each SSE message has `id` (the event id), ' +
          '`event` (its type) and `data` (the envelope {id, event, created_at, tenant_id, data}). Reconnect with the ' +
          '`Last-Event-ID` header (or `last_event_id`) to resume exactly after the last event seen, within retention. ' +
          'A comment line is sent every heartbeat interval so proxies keep the connection open.',
        querystring: Type.Object(
          {
            event: Type.Optional(Type.String({ description: `Comma-separated event types (${FLEET_EVENT_TYPES.join(', ')}); all when omitted.` })),
            site_id: Type.Optional(SiteFilter),
            charge_point_id: Type.Optional(ChargePointFilter),
            last_event_id: Type.Optional(Type.String({ description: 'Resume after this event id, for clients that cannot set the Last-Event-ID header.' })),
          },
          { additionalProperties: false },
        ),
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String()) }),
        response: { ...errors(400, 401, 403, 406, 503) },
      },
    },
    async (req, reply) => {
      const types = req.query.event?.split(',').map((t) => t.trim()).filter(Boolean);
      const unknown = types?.find((t) => !(FLEET_EVENT_TYPES as readonly string[]).includes(t));
      if (unknown) throw badRequest('event', `unknown event type "${unknown}"; known: ${FLEET_EVENT_TYPES.join(', ')}`);
      const resumeFrom = req.headers['last-event-id'] ?? req.query.last_event_id;
      const after = resumeFrom === undefined || resumeFrom === '' ? undefined : resumeFrom;
      if (after !== undefined && !EVENT_ID.test(after)) {
        throw badRequest('Last-Event-ID', 'Last-Event-ID must be an event id (a decimal integer) from this stream');
      }
      const abort = new AbortController();
      reply.sse.onClose(() => abort.abort());
      reply.sse.keepAlive();
      // The headers once the stream's position is fixed (onLive, at once unless this node's feed
      // must first find the log's head), not at the first event or heartbeat: a live client that
      // sees the stream open gets every event committed after that.
      const open = () => {
        // Gone before its position was fixed: no headers, and no heartbeat timer for a closed socket.
        if (!reply.sse.isConnected) return;
        reply.sse.sendHeaders();
        reply.raw.flushHeaders();
      };
      // Authenticated once, when it arrived: a key revoked since ends the stream, and the
      // client's reconnect is refused with 401.
      const principal = req.principal;
      const unwatch = principal?.kind === 'tenant' ? keys.watch(principal.keyId, () => abort.abort()) : () => {};
      sseClients.inc();
      try {
        const batches = fleetEventBatches(
          db,
          events.feed,
          { tenantId: tenantOf(req), events: types, siteId: req.query.site_id, chargePointId: req.query.charge_point_id },
          { after, maxQueued: events.maxQueuedPerClient, pageSize: 500, lingerMs: events.flushMs, onLive: open },
          abort.signal,
        );
        for await (const batch of batches) {
          if (!reply.sse.isConnected) break;
          // One write per batch, not one per event; a full socket is waited for once per batch.
          if (!reply.raw.write(sseFrames(batch))) await once(reply.raw, 'drain', { signal: abort.signal });
        }
      } catch (err) {
        // Not open yet (the feed could not find its position): an answer in the one error shape.
        if (!reply.raw.headersSent && err instanceof EventFeedBehindError) throw new ServiceUnavailableError('events_unavailable', err.message);
        // A client too slow to keep up is cut off; it reconnects with Last-Event-ID and reads the log.
        if (err instanceof StreamOverflowError) req.log.warn({ err }, 'event stream: slow client disconnected');
        else if (reply.sse.isConnected && !abort.signal.aborted) req.log.error({ err }, 'event stream failed');
      } finally {
        unwatch();
        sseClients.dec();
        reply.sse.close();
      }
    },
  );
}
