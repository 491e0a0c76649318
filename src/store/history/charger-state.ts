import type { Queryable } from '../db.js';

/** Coalesced last_seen / last_heartbeat for many chargers in one statement; times only move forward. */
export async function touchChargers(
  db: Queryable,
  ids: string[],
  seenAt: Date[],
  heartbeatAt: (Date | null)[],
): Promise<void> {
  if (ids.length === 0) return;
  // Upsert, joined to chargers: a charger deleted meanwhile is skipped instead of failing the batch.
  await db.query(
    `INSERT INTO charger_state (charge_point_id, last_seen, last_heartbeat)
     SELECT v.id, v.seen, v.hb FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS v(id, seen, hb)
       JOIN chargers c ON c.charge_point_id = v.id
      -- Rows locked in one order, so two flushes (two nodes) cannot deadlock each other.
      ORDER BY v.id
     ON CONFLICT (charge_point_id) DO UPDATE SET
        last_seen = greatest(charger_state.last_seen, excluded.last_seen),
        last_heartbeat = CASE WHEN excluded.last_heartbeat IS NULL THEN charger_state.last_heartbeat
                              ELSE greatest(charger_state.last_heartbeat, excluded.last_heartbeat) END`,
    [ids, seenAt, heartbeatAt],
  );
}
