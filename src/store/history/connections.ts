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

/** Coalesced liveness bookkeeping: many connections' last-heard times in one statement. */
export async function touchConnections(db: Queryable, ids: number[], heardAt: Date[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE connections c SET last_heard_at = greatest(c.last_heard_at, v.heard)
       FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, heard)
      WHERE c.connection_id = v.id AND c.disconnected_at IS NULL`,
    [ids, heardAt],
  );
}

/**
 * Closes every interval a node left open at the given time (its last lease): crash recovery.
 * Each close writes its charge_point.disconnected and status change in the caller's transaction.
 */
export async function closeConnectionsOfNode(db: Queryable, nodeId: string, at: Date, reason: DisconnectReason): Promise<number> {
  const [row] = await db.query<{ closed: number }>('SELECT dynamo_close_node_connections($1, $2, $3) AS closed', [nodeId, at, reason]);
  return row?.closed ?? 0;
}
