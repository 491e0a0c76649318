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

/** One entry of the durable log, as the stream and webhooks send it (the envelope). */
export interface FleetEvent {
  /** Decimal integer, increasing in log order; compare as integers, not strings. */
  id: string;
  event: FleetEventType;
  created_at: Date;
  tenant_id: string;
  data: Record<string, unknown>;
}

export interface EventFilter {
  tenantId: string;
  /** Only events after this id (exclusive); '0' for the start of the retained log. */
  after: string;
  events?: readonly string[];
  siteId?: string;
  chargePointId?: string;
  limit: number;
}

interface EventRow {
  id: string;
  event: FleetEventType;
  created_at: Date;
  tenant_id: string;
  data: Record<string, unknown>;
}

/**
 * The next events after a position, in log order. Only events of transactions older than every
 * transaction still running are returned (the horizon, migration 0008), so an event can never
 * later appear below the last id a reader was given.
 */
export async function readFleetEvents(db: Queryable, f: EventFilter): Promise<FleetEvent[]> {
  return db.query<EventRow>(
    `SELECT id::text AS id, event, created_at, tenant_id, data FROM fleet_events
      WHERE tenant_id = $1 AND id > $2::bigint
        AND id < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)
        AND ($3::text[] IS NULL OR event = ANY ($3::text[]))
        AND ($4::text IS NULL OR site_id = $4)
        AND ($5::text IS NULL OR charge_point_id = $5)
      ORDER BY id LIMIT $6`,
    [f.tenantId, f.after, f.events?.length ? f.events : null, f.siteId ?? null, f.chargePointId ?? null, f.limit],
  );
}

/** The id of the last event a reader can see now: a new stream starts after it. */
export async function fleetEventsHead(db: Queryable): Promise<string> {
  const [row] = await db.query<{ head: string }>(
    `SELECT coalesce(max(id), 0)::text AS head FROM fleet_events
      WHERE id < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)`,
  );
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
