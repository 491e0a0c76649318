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

export interface ApiDeps {
  db: Db;
  adminKeyHash: string;
  metrics: Registry;
  chargers: ChargerConnectionControl;
  rateLimitPerMinute: number;
  /** Failed API authentications per minute from one address before it is refused (429). */
  authFailuresPerMinute: number;
  /** True once this node drains (SIGTERM): /readyz answers 503 so the load balancer stops sending work. */
  draining?: () => boolean;
}
