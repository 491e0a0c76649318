import type { Queryable } from '../db.js';

/** Coalesced last_seen / last_heartbeat for many chargers in one statement; times only move forward. */
export async function touchChargers(
  db: Queryable,
  ids: string[],
  seenAt: Date[],
  heartbeatAt: (Date | null)[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  // A row an ingest batch holds is skipped, not waited for: the flush waiting on one row while holding
  // others that the batch wanted next was a deadlock, and a second's stall of that batch until
  // PostgreSQL broke it. The skipped ids are returned for the next flush. A charger deleted meanwhile
  // is skipped (the join to chargers), not an error.
  const rows = await db.query<{ id: string }>(
    `WITH v AS (SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS v(id, seen, hb)),
     -- Each row looked up by its key (LATERAL): as a join, PostgreSQL hashed the whole table to find
     -- a few hundred rows, 35 ms a flush at 50,000 chargers (docs/benchmarks.md "50,000 chargers on
     -- one machine"); looked up, the cost is the flush's, not the fleet's.
     locked AS (
       SELECT s.charge_point_id FROM (SELECT id FROM v ORDER BY id) w
        CROSS JOIN LATERAL (SELECT s.charge_point_id FROM charger_state s WHERE s.charge_point_id = w.id FOR UPDATE SKIP LOCKED) s),
     updated AS (
       UPDATE charger_state s SET
          last_seen = greatest(s.last_seen, v.seen),
          last_heartbeat = CASE WHEN v.hb IS NULL THEN s.last_heartbeat ELSE greatest(s.last_heartbeat, v.hb) END
         FROM v
        WHERE s.charge_point_id = v.id AND s.charge_point_id IN (SELECT charge_point_id FROM locked)
       RETURNING s.charge_point_id),
     inserted AS (
       INSERT INTO charger_state (charge_point_id, last_seen, last_heartbeat)
       SELECT v.id, v.seen, v.hb FROM v JOIN chargers c ON c.charge_point_id = v.id
        WHERE NOT EXISTS (SELECT 1 FROM charger_state s WHERE s.charge_point_id = v.id)
        ORDER BY v.id
       ON CONFLICT (charge_point_id) DO NOTHING
       RETURNING charge_point_id)
     SELECT v.id FROM v JOIN chargers c ON c.charge_point_id = v.id
      WHERE v.id NOT IN (SELECT charge_point_id FROM updated) AND v.id NOT IN (SELECT charge_point_id FROM inserted)`,
    [ids, seenAt, heartbeatAt],
  );
  return rows.map((r) => r.id);
}
