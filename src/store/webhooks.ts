import type { Db, Page, Queryable } from './db.js';
import { listPage } from './list-page.js';
import { FLEET_EVENTS_HEAD_SQL, emitFleetEvent } from './fleet-events.js';
import { newId } from '../ids.js';
import { wireInstant } from '../instant.js';

export type EndpointStatus = 'active' | 'paused' | 'disabled';

/** A webhook endpoint as stored; `secret` is the stored (sealed or plain) form, never shown. */
export interface WebhookEndpoint {
  endpoint_id: string;
  tenant_id: string;
  url: string;
  events: string[];
  description: string | null;
  secret: string;
  status: EndpointStatus;
  disabled_reason: string | null;
  disabled_at: Date | null;
  /** The last event id handled, as a decimal string (ids exceed 2^53 in time). */
  cursor: string;
  failing_since: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface AttemptRecord {
  at: string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface WebhookDelivery {
  delivery_id: string;
  endpoint_id: string;
  event_id: string | null;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  attempt_log: AttemptRecord[];
  next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
}

/** Attempts kept per delivery (the newest). */
export const ATTEMPT_LOG_LENGTH = 10;

const ENDPOINT = `endpoint_id, tenant_id, url, events, description, secret, status, disabled_reason, disabled_at,
  cursor::text AS cursor, failing_since, version, created_at, updated_at`;
const DELIVERY = `delivery_id, endpoint_id, event_id::text AS event_id, event, status, attempts, last_status_code, last_error,
  last_latency_ms, attempt_log, next_attempt_at, created_at, updated_at, delivered_at`;


export interface NewEndpoint {
  endpointId: string;
  tenantId: string;
  url: string;
  events: string[];
  description: string | null;
  sealedSecret: string;
}

export async function createEndpoint(db: Queryable, e: NewEndpoint): Promise<WebhookEndpoint> {
  const [row] = await db.query<WebhookEndpoint>(
    `INSERT INTO webhook_endpoints (endpoint_id, tenant_id, url, events, description, secret, cursor)
     VALUES ($1, $2, $3, $4, $5, $6, ${FLEET_EVENTS_HEAD_SQL}) RETURNING ${ENDPOINT}`,
    [e.endpointId, e.tenantId, e.url, e.events, e.description, e.sealedSecret],
  );
  return row!;
}

export async function getEndpoint(db: Queryable, tenantId: string, endpointId: string): Promise<WebhookEndpoint | undefined> {
  const [row] = await db.query<WebhookEndpoint>(`SELECT ${ENDPOINT} FROM webhook_endpoints WHERE tenant_id = $1 AND endpoint_id = $2`, [tenantId, endpointId]);
  return row;
}

export async function listEndpoints(db: Queryable, tenantId: string, page: Page): Promise<{ rows: WebhookEndpoint[]; total: number }> {
  return listPage<WebhookEndpoint>(db, { columns: ENDPOINT, from: 'webhook_endpoints', where: 'tenant_id = $1', orderBy: 'created_at, endpoint_id' }, [tenantId], page);
}

export interface EndpointPatch {
  url?: string;
  events?: string[];
  description?: string | null;
  /** false pauses deliveries; true resumes them, also for an endpoint disabled by failures. */
  enabled?: boolean;
}

/**
 * Only the fields present change. A change of url, events or status bumps `version`, which the
 * delivering node watches. Resuming keeps the cursor: the events since the pause (or the failure)
 * are delivered, those still within the log's retention.
 */
export async function updateEndpoint(db: Queryable, tenantId: string, endpointId: string, p: EndpointPatch): Promise<WebhookEndpoint | undefined> {
  const status = p.enabled === undefined ? null : p.enabled ? 'active' : 'paused';
  const [row] = await db.query<WebhookEndpoint>(
    `UPDATE webhook_endpoints SET
       url = coalesce($3, url),
       events = coalesce($4, events),
       description = CASE WHEN $5 THEN $6 ELSE description END,
       status = coalesce($7, status),
       disabled_reason = CASE WHEN $7 IS NULL THEN disabled_reason END,
       disabled_at = CASE WHEN $7 IS NULL THEN disabled_at END,
       failing_since = CASE WHEN $7 IS NULL THEN failing_since END,
       version = version + CASE WHEN $3 IS NOT NULL OR $4 IS NOT NULL OR $7 IS NOT NULL THEN 1 ELSE 0 END,
       updated_at = now()
     WHERE tenant_id = $1 AND endpoint_id = $2 RETURNING ${ENDPOINT}`,
    [tenantId, endpointId, p.url ?? null, p.events ?? null, 'description' in p, p.description ?? null, status],
  );
  return row;
}

export async function deleteEndpoint(db: Queryable, tenantId: string, endpointId: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND endpoint_id = $2 RETURNING 1', [tenantId, endpointId]);
  return rows.length > 0;
}

export async function listDeliveries(
  db: Queryable,
  endpointId: string,
  f: Page & { status?: DeliveryStatus },
): Promise<{ rows: WebhookDelivery[]; total: number }> {
  return listPage<WebhookDelivery>(
    db,
    {
      columns: DELIVERY,
      from: 'webhook_deliveries',
      where: 'endpoint_id = $1 AND ($2::text IS NULL OR status = $2)',
      orderBy: 'webhook_deliveries.created_at DESC, webhook_deliveries.event_id DESC NULLS LAST, delivery_id DESC',
    },
    [endpointId, f.status ?? null],
    f,
  );
}

// ---- The delivering side (src/events/webhooks) ----

/** What a delivering node needs of an endpoint it holds. */
export type HeldEndpoint = Pick<WebhookEndpoint, 'endpoint_id' | 'tenant_id' | 'url' | 'events' | 'secret' | 'cursor' | 'failing_since' | 'version'>;

/**
 * Renews this node's leases and takes free ones (never held, or expired: their node died or
 * stopped): every active endpoint this node now holds. Short row locks only, skipping rows
 * another node is claiming at the same moment.
 */
export async function claimEndpoints(db: Queryable, nodeId: string, leaseSec: number, limit: number): Promise<HeldEndpoint[]> {
  return db.query<HeldEndpoint>(
    `UPDATE webhook_endpoints SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
      WHERE endpoint_id IN (
        SELECT endpoint_id FROM webhook_endpoints
         WHERE status = 'active' AND (lease_owner = $1 OR lease_owner IS NULL OR lease_until < now())
         ORDER BY (lease_owner = $1) DESC NULLS LAST, endpoint_id LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING endpoint_id, tenant_id, url, events, secret, cursor::text AS cursor, failing_since, version`,
    [nodeId, leaseSec, limit],
  );
}

/** Gives up this node's leases (a clean stop), so another node takes over at once. */
export async function releaseEndpoints(db: Queryable, nodeId: string): Promise<void> {
  await db.query('UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1', [nodeId]);
}

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export interface DeliveredEvent {
  eventId: string;
  event: string;
  attempts: number;
  statusCode: number;
  latencyMs: number;
  at: Date;
  /** Earlier failed attempts, when the event needed retries. */
  attemptLog: AttemptRecord[];
}

/**
 * Records delivered events and moves the endpoint's cursor past them, in one transaction, only
 * while this node holds the lease (else LeaseLostError: the new holder delivers them again, at
 * least once). A success also ends a run of failures.
 */
export async function saveProgress(tx: Queryable, nodeId: string, endpointId: string, cursor: string, delivered: DeliveredEvent[]): Promise<void> {
  const held = await tx.query(
    `UPDATE webhook_endpoints SET cursor = greatest(cursor, $3::bigint), failing_since = NULL
      WHERE endpoint_id = $1 AND lease_owner = $2 RETURNING 1`,
    [endpointId, nodeId, cursor],
  );
  if (held.length === 0) throw new LeaseLostError(`lease on ${endpointId} lost`);
  if (delivered.length === 0) return;
  const rows = delivered.map((d) => ({
    delivery_id: newId('whd'),
    event_id: d.eventId,
    event: d.event,
    attempts: d.attempts,
    status_code: d.statusCode,
    latency_ms: d.latencyMs,
    at: d.at.toISOString(),
    attempt_log: [...d.attemptLog, { at: d.at.toISOString(), status_code: d.statusCode, latency_ms: d.latencyMs, error: null }].slice(-ATTEMPT_LOG_LENGTH),
  }));
  await tx.query(
    `INSERT INTO webhook_deliveries AS d (delivery_id, endpoint_id, event_id, event, status, attempts, last_status_code,
            last_error, last_latency_ms, attempt_log, next_attempt_at, created_at, updated_at, delivered_at)
     SELECT r.delivery_id, $1, r.event_id::bigint, r.event, 'delivered', r.attempts, r.status_code, NULL, r.latency_ms,
            r.attempt_log, NULL, r.at, r.at, r.at
       FROM jsonb_to_recordset($2::jsonb) AS r(delivery_id text, event_id text, event text, attempts int, status_code int,
            latency_ms int, at timestamptz, attempt_log jsonb)
     ON CONFLICT (endpoint_id, event_id) DO UPDATE SET status = 'delivered', attempts = excluded.attempts,
            last_status_code = excluded.last_status_code, last_error = NULL, last_latency_ms = excluded.last_latency_ms,
            attempt_log = excluded.attempt_log, next_attempt_at = NULL, updated_at = excluded.updated_at, delivered_at = excluded.delivered_at`,
    [endpointId, JSON.stringify(rows)],
  );
}

/** An event whose delivery is being retried: what survives a restart of its attempts. */
export interface PendingDelivery {
  status: 'pending' | 'failed';
  attempts: number;
  attempt_log: AttemptRecord[];
  next_attempt_at: Date | null;
}

export async function pendingDelivery(db: Queryable, endpointId: string, eventId: string): Promise<PendingDelivery | undefined> {
  const [row] = await db.query<PendingDelivery>(
    `SELECT status, attempts, attempt_log, next_attempt_at FROM webhook_deliveries
      WHERE endpoint_id = $1 AND event_id = $2::bigint AND status <> 'delivered'`,
    [endpointId, eventId],
  );
  return row;
}

export interface FailedAttempt {
  eventId: string;
  event: string;
  attempts: number;
  attemptLog: AttemptRecord[];
  statusCode: number | null;
  error: string;
  latencyMs: number;
  nextAttemptAt: Date;
}

/**
 * Records a failed attempt (the delivery stays pending, with its next attempt) and starts the
 * endpoint's run of failures if none is running. Returns when that run began.
 */
export async function recordFailure(db: Db, nodeId: string, endpointId: string, f: FailedAttempt): Promise<Date> {
  return db.transaction((tx) => recordFailureIn(tx, nodeId, endpointId, f));
}

async function recordFailureIn(tx: Queryable, nodeId: string, endpointId: string, f: FailedAttempt): Promise<Date> {
  const [held] = await tx.query<{ failing_since: Date }>(
    `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now())
      WHERE endpoint_id = $1 AND lease_owner = $2 RETURNING failing_since`,
    [endpointId, nodeId],
  );
  if (!held) throw new LeaseLostError(`lease on ${endpointId} lost`);
  await upsertUndelivered(tx, endpointId, f, 'pending');
  return held.failing_since;
}

async function upsertUndelivered(tx: Queryable, endpointId: string, f: FailedAttempt, status: 'pending' | 'failed'): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_deliveries (delivery_id, endpoint_id, event_id, event, status, attempts, last_status_code, last_error,
            last_latency_ms, attempt_log, next_attempt_at)
     VALUES ($1, $2, $3::bigint, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)
     ON CONFLICT (endpoint_id, event_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
            last_status_code = excluded.last_status_code, last_error = excluded.last_error, last_latency_ms = excluded.last_latency_ms,
            attempt_log = excluded.attempt_log, next_attempt_at = excluded.next_attempt_at, updated_at = now()`,
    [newId('whd'), endpointId, f.eventId, f.event, status, f.attempts, f.statusCode, f.error, f.latencyMs,
      JSON.stringify(f.attemptLog.slice(-ATTEMPT_LOG_LENGTH)), status === 'pending' ? f.nextAttemptAt : null],
  );
}

export type DisableReason = 'gone' | 'failing';

/**
 * Disables an endpoint after a 410 or sustained failure, records the delivery as failed and
 * writes `webhook_endpoint.disabled` to the event log, all in the caller's transaction. Returns
 * false when this node no longer holds it (nothing is written then).
 */
export async function disableEndpoint(tx: Queryable, nodeId: string, endpointId: string, reason: DisableReason, f: FailedAttempt): Promise<boolean> {
  const [row] = await tx.query<{ tenant_id: string; url: string; failing_since: Date | null; disabled_at: Date }>(
    `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $3, disabled_at = now(), version = version + 1,
            lease_owner = NULL, lease_until = NULL, updated_at = now()
      WHERE endpoint_id = $1 AND lease_owner = $2 AND status = 'active'
      RETURNING tenant_id, url, failing_since, disabled_at`,
    [endpointId, nodeId, reason],
  );
  if (!row) return false;
  await upsertUndelivered(tx, endpointId, f, 'failed');
  await emitFleetEvent(tx, {
    tenantId: row.tenant_id,
    event: 'webhook_endpoint.disabled',
    data: {
      endpoint_id: endpointId,
      url: row.url,
      reason,
      failing_since: row.failing_since ? wireInstant(row.failing_since) : null,
      last_event_id: f.eventId,
      last_status_code: f.statusCode,
      last_error: f.error,
    },
  });
  return true;
}

/** A test ping's outcome, kept in the deliveries list beside real ones. */
export async function recordTestDelivery(
  db: Queryable,
  endpointId: string,
  a: { ok: boolean; statusCode: number | null; error: string | null; latencyMs: number; at: Date },
): Promise<WebhookDelivery> {
  const entry = [{ at: a.at.toISOString(), status_code: a.statusCode, latency_ms: a.latencyMs, error: a.error }];
  const [row] = await db.query<WebhookDelivery>(
    `INSERT INTO webhook_deliveries (delivery_id, endpoint_id, event_id, event, status, attempts, last_status_code, last_error,
            last_latency_ms, attempt_log, created_at, updated_at, delivered_at)
     VALUES ($1, $2, NULL, 'webhook_endpoint.test', $3, 1, $4, $5, $6, $7::jsonb, $8, $8, CASE WHEN $3 = 'delivered' THEN $8::timestamptz END)
     RETURNING ${DELIVERY}`,
    [newId('whd'), endpointId, a.ok ? 'delivered' : 'failed', a.statusCode, a.error, a.latencyMs, JSON.stringify(entry), a.at],
  );
  return row!;
}

/** Deletes delivery records older than the cutoff, at most `chunk` per call (short statements). */
export async function pruneDeliveries(db: Queryable, before: Date, chunk: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH old AS (SELECT delivery_id FROM webhook_deliveries WHERE created_at < $1 AND status <> 'pending' ORDER BY created_at LIMIT $2),
          gone AS (DELETE FROM webhook_deliveries WHERE delivery_id IN (SELECT delivery_id FROM old) RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [before, chunk],
  );
  return rows[0]?.n ?? 0;
}

/** Stored secrets, for the startup check that they open under the configured key. */
export async function storedSecrets(db: Queryable): Promise<{ endpoint_id: string; secret: string }[]> {
  return db.query('SELECT endpoint_id, secret FROM webhook_endpoints');
}

export async function replaceStoredSecret(db: Queryable, endpointId: string, stored: string, sealed: string): Promise<void> {
  await db.query('UPDATE webhook_endpoints SET secret = $3 WHERE endpoint_id = $1 AND secret = $2', [endpointId, stored, sealed]);
}
