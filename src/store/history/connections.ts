import type { Queryable } from '../db.js';

export type DisconnectReason =
  | 'closed_by_charger'
  | 'liveness_timeout'
  | 'replaced'
  | 'server_shutdown'
  | 'crash_recovery'
  | 'deregistered'
  | 'credentials_changed'
  | 'protocol_error'
  /** This node's lease lapsed and another node recovered it (docs/operations.md "Cluster"). */
  | 'lease_lost';

/**
 * Coalesced liveness bookkeeping: many connections' last-heard times in one statement. Rows held by
 * another transaction are skipped, not waited for (touchChargers says why); their ids are returned.
 */
export async function touchConnections(db: Queryable, ids: number[], heardAt: Date[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ id: string }>(
    `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, heard)),
     -- Each row looked up by its key, not found by a join that may hash the table (touchChargers).
     locked AS (
       SELECT c.connection_id FROM (SELECT id FROM v ORDER BY id) w
        CROSS JOIN LATERAL (SELECT c.connection_id FROM connections c WHERE c.connection_id = w.id AND c.disconnected_at IS NULL FOR UPDATE SKIP LOCKED) c),
     updated AS (
       UPDATE connections c SET last_heard_at = greatest(c.last_heard_at, v.heard)
         FROM v
        WHERE c.connection_id = v.id AND c.connection_id IN (SELECT connection_id FROM locked)
       RETURNING c.connection_id)
     SELECT v.id::text FROM v
      WHERE v.id NOT IN (SELECT connection_id FROM updated)
        AND EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = v.id AND c.disconnected_at IS NULL)`,
    [ids, heardAt],
  );
  return rows.map((r) => Number(r.id));
}

/**
 * Closes every interval a node left open at the given time (its last lease): crash recovery.
 * Each close writes its charge_point.disconnected and status change in the caller's transaction.
 */
export async function closeConnectionsOfNode(db: Queryable, nodeId: string, at: Date, reason: DisconnectReason): Promise<number> {
  const [row] = await db.query<{ closed: number }>('SELECT dynamo_close_node_connections($1, $2, $3) AS closed', [nodeId, at, reason]);
  return row?.closed ?? 0;
}
