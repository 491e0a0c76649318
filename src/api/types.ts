import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import type { Db } from '../store/db.js';
import type { EventFeed } from '../events/event-feed.js';
import type { WebhookService } from '../events/webhooks/webhook-service.js';
import type { CommandService } from '../commands/service.js';
import type { MaintenanceAvailability } from '../commands/maintenance-availability.js';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Effects on live connections that the API may ask for; the OCPP gateway provides them. */
export interface ChargerConnectionControl {
  /** Closes the charger's live connection, if any (it was deleted or its password changed). */
  disconnect(chargePointId: string, reason: 'deregistered' | 'credentials_changed'): Promise<void>;
}

/** The live event stream (docs/events.md). */
export interface EventsDeps {
  feed: EventFeed;
  /** Events a slow stream client may have waiting before it is disconnected. */
  maxQueuedPerClient: number;
  /** Comment lines sent this often keep proxies from closing an idle stream. */
  heartbeatMs: number;
  /** An open stream whose key is revoked is closed within this long (revoked-key-watch.ts). */
  keyCheckMs: number;
  /** Live events are gathered this long and written to each client together (0: as they come). */
  flushMs: number;
}

export interface ApiDeps {
  events: EventsDeps;
  /** Webhook deliveries (docs/alerts.md): URL checks, secret sealing, test sends, change wake-ups. */
  webhooks: WebhookService;
  db: Db;
  /** Statements one fleet uptime query may run at once (1 on the embedded database: one connection). */
  fleetQueryParts: number;
  adminKeyHash: string;
  metrics: Registry;
  chargers: ChargerConnectionControl;
  rateLimitPerMinute: number;
  /** Failed API authentications per minute from one address before it is refused (429). */
  authFailuresPerMinute: number;
  commands: CommandService;
  /** Told when a maintenance window changes, so take_offline windows act at once. */
  maintenance: Pick<MaintenanceAvailability, 'changed'>;
  /** True once this node drains (SIGTERM): /readyz answers 503 so the load balancer stops sending work. */
  draining?: () => boolean;
}
