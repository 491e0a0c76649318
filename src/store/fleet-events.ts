import type { Queryable } from './db.js';

/** The catalogue of docs/events.md. */
export const FLEET_EVENT_TYPES = [
  'charge_point.connected',
  'charge_point.disconnected',
  'charge_point.status_changed',
  'connector.status_changed',
  'charge_point.fault',
  'charge_point.fault_resolved',
  'session.started',
  'session.ended',
  'maintenance.created',
  'maintenance.completed',
  'alert.triggered',
  'alert.resolved',
  'webhook_endpoint.disabled',
] as const;
export type FleetEventType = (typeof FLEET_EVENT_TYPES)[number];

/** One entry of the durable log, as the stream and webhooks send it. */
export interface FleetEvent {
  /** Decimal integer, increasing in log order; compare as integers, not strings. */
  id: string;
  event: FleetEventType;
  created_at: Date;
  tenant_id: string;
  /** The envelope on the wire (docs/events.md), JSON text made by ENVELOPE_SQL. */
  envelope: string;
}

/**
 * The events a reader may take now: those of transactions older than every transaction still
 * running (migration 0008), so no event can later appear below an id already read.
 */
const HORIZON = `(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)`;
const READABLE = `id < ${HORIZON}`;

/**
 * The envelope `{id, event, created_at, tenant_id, data}` (docs/events.md) as JSON text, made where
 * the row is read: the data goes out as the database keeps it, not parsed into objects by the client
 * and serialised again (7–10 µs per event in a CPU profile of the listeners bench, on the CPU ingest
 * needs; docs/benchmarks.md "Ingest with listeners"). Strings are escaped by to_json; created_at is
 * the API's instant through dynamo_ts (UTC to the whole second, cut, not rounded, as src/instant.ts).
 * Every column is NOT NULL (migration 0008), so no part makes the whole text NULL.
 */
const ENVELOPE_SQL = `'{"id":"' || e.id::text || '","event":' || to_json(e.event)::text
  || ',"created_at":"' || dynamo_ts(e.created_at)
  || '","tenant_id":' || to_json(e.tenant_id)::text || ',"data":' || e.data::text || '}'`;

/** A FleetEventRow from `fleet_events e`. */
const ROW_COLUMNS = `e.id::text AS id, e.event, e.created_at, e.tenant_id, e.site_id, e.charge_point_id, ${ENVELOPE_SQL} AS envelope`;

/** The id of the last event a reader can see now: a new reader (a stream, a webhook endpoint) starts after it. */
export const FLEET_EVENTS_HEAD_SQL = `(SELECT coalesce(max(id), 0) FROM fleet_events WHERE ${READABLE})`;

export interface EventFilter {
  /** One tenant's events, or every tenant's (this node's feed, which fans them out). */
  tenantId: string | null;
  /** Only events after this id (exclusive); '0' for the start of the retained log. */
  after: string;
  events?: readonly string[];
  siteId?: string;
  chargePointId?: string;
  limit: number;
}

/** A log entry with what the filters match on besides the envelope. */
export interface FleetEventRow extends FleetEvent {
  site_id: string | null;
  charge_point_id: string | null;
}

/** The next readable events after a position, in log order. */
export async function readFleetEvents(db: Queryable, f: EventFilter): Promise<FleetEventRow[]> {
  return db.query<FleetEventRow>(
    `SELECT ${ROW_COLUMNS}
       FROM fleet_events e
      WHERE e.id > $2::bigint AND ${READABLE}
        AND ($1::text IS NULL OR e.tenant_id = $1)
        AND ($3::text[] IS NULL OR e.event = ANY ($3::text[]))
        AND ($4::text IS NULL OR e.site_id = $4)
        AND ($5::text IS NULL OR e.charge_point_id = $5)
      ORDER BY e.id LIMIT $6`,
    [f.tenantId, f.after, f.events?.length ? f.events : null, f.siteId ?? null, f.chargePointId ?? null, f.limit],
  );
}

/** One read of the whole log for a node's feed: the next readable events, and whether any are held back. */
export interface FeedPage {
  rows: FleetEventRow[];
  /**
   * Events exist past the horizon: written by transactions that committed while an older one
   * (anywhere on the server) still runs, so a reader caught up to the horizon cannot see them yet.
   */
  heldBack: boolean;
}

/**
 * The next readable events of every tenant after a position, and in the same statement (one
 * snapshot, one round trip per wake-up) whether events past the horizon exist.
 */
export async function readFeedPage(db: Queryable, after: string, limit: number): Promise<FeedPage> {
  // Held back: the log's last event is past the horizon. As max(id), read from the end of the primary
  // key whatever the statistics say: an EXISTS over `id >= horizon` was planned as a sequential scan
  // (the planner guesses that a third of the rows match a bound it cannot see), which read the whole
  // log at every wake-up of every node's feed: at 50,000 chargers most of PostgreSQL's CPU
  // (docs/benchmarks.md "50,000 chargers on one machine").
  const rows = await db.query<FleetEventRow & { held: boolean }>(
    `SELECT h.held, ${ROW_COLUMNS}
       FROM (SELECT coalesce((SELECT max(id) FROM fleet_events) >= ${HORIZON}, false) AS held) h
       LEFT JOIN LATERAL (
         SELECT * FROM fleet_events WHERE id > $1::bigint AND ${READABLE} ORDER BY fleet_events.id LIMIT $2
       ) e ON true
      ORDER BY e.id`,
    [after, limit],
  );
  const heldBack = rows[0]?.held ?? false;
  // The rows keep their `held` column: readers take the fields they need (the envelope), and copying
  // every row without it would cost more than carrying it.
  return { rows: rows[0]?.id == null ? [] : rows, heldBack };
}

export async function fleetEventsHead(db: Queryable): Promise<string> {
  const [row] = await db.query<{ head: string }>(`SELECT ${FLEET_EVENTS_HEAD_SQL}::text AS head`);
  return row?.head ?? '0';
}

/** Writes one tenant-level event in the caller's transaction (maintenance, alerts, webhooks). */
export async function emitFleetEvent(
  db: Queryable,
  e: { tenantId: string; event: FleetEventType; chargePointId?: string | null; siteId?: string | null; data: Record<string, unknown> },
): Promise<string> {
  const [row] = await db.query<{ id: string }>('SELECT dynamo_emit_for($1, $2, $3, $4, $5::jsonb)::text AS id', [
    e.tenantId,
    e.event,
    e.chargePointId ?? null,
    e.siteId ?? null,
    JSON.stringify(e.data),
  ]);
  return row!.id;
}

/** Writes one event about a charger in the caller's transaction; tenant and site are the charger's. */
export async function emitChargerEvent(db: Queryable, chargePointId: string, event: FleetEventType, data: Record<string, unknown>): Promise<void> {
  await db.query('SELECT dynamo_emit($1, $2, $3::jsonb)', [chargePointId, event, JSON.stringify(data)]);
}

/**
 * Deletes events older than the cutoff, oldest first, at most `chunk` per call, so pruning never
 * holds long locks or a long transaction. Ids grow with time, so the oldest are at the front of
 * the primary key: each call reads at most `chunk` index entries.
 */
export async function pruneFleetEvents(db: Queryable, before: Date, chunk: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH oldest AS (SELECT id, created_at FROM fleet_events ORDER BY id LIMIT $2),
          gone AS (DELETE FROM fleet_events WHERE id IN (SELECT id FROM oldest WHERE created_at < $1) RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [before, chunk],
  );
  return rows[0]?.n ?? 0;
}
