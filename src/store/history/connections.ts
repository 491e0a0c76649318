import type { Queryable } from '../db.js';

export type DisconnectReason =
  | 'closed_by_charger'
  | 'liveness_timeout'
  | 'replaced'
  | 'server_shutdown'
  | 'crash_recovery'
  | 'deregistered'
  | 'credentials_changed'
  | 'protocol_error';

/**
 * Opens the charger's online interval. Any interval still open for it (a
 * connection this node replaced, or one a lost node never closed) ends first,
 * at the time that charger was last heard from there.
 */
export async function openConnection(
  db: Queryable,
  c: { chargePointId: string; nodeId: string; ocppVersion: string; remoteAddress: string | null; at: Date },
): Promise<number> {
  await db.query(
    `UPDATE connections SET disconnected_at = greatest(connected_at, least(last_heard_at, $2)), disconnect_reason = 'replaced'
      WHERE charge_point_id = $1 AND disconnected_at IS NULL`,
    [c.chargePointId, c.at],
  );
  const [row] = await db.query<{ connection_id: number }>(
    `INSERT INTO connections (charge_point_id, node_id, ocpp_version, remote_address, connected_at, last_heard_at)
     VALUES ($1, $2, $3, $4, $5, $5) RETURNING connection_id`,
    [c.chargePointId, c.nodeId, c.ocppVersion, c.remoteAddress, c.at],
  );
  await db.query(
    `INSERT INTO charger_state (charge_point_id, ocpp_version, last_seen) VALUES ($1, $2, $3)
     ON CONFLICT (charge_point_id) DO UPDATE SET ocpp_version = excluded.ocpp_version,
       last_seen = greatest(charger_state.last_seen, excluded.last_seen)`,
    [c.chargePointId, c.ocppVersion, c.at],
  );
  return row!.connection_id;
}

/** Ends one online interval; a second close of the same interval changes nothing. */
export async function closeConnection(db: Queryable, connectionId: number, at: Date, reason: DisconnectReason): Promise<void> {
  await db.query(
    `UPDATE connections SET disconnected_at = greatest(connected_at, $2), disconnect_reason = $3,
            last_heard_at = greatest(last_heard_at, least($2, now()))
      WHERE connection_id = $1 AND disconnected_at IS NULL`,
    [connectionId, at, reason],
  );
}

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

/** Closes every interval a node left open at the given time (its last lease): crash recovery. */
export async function closeConnectionsOfNode(db: Queryable, nodeId: string, at: Date, reason: DisconnectReason): Promise<number> {
  const rows = await db.query(
    `UPDATE connections SET disconnected_at = greatest(connected_at, $2), disconnect_reason = $3
      WHERE node_id = $1 AND disconnected_at IS NULL RETURNING 1`,
    [nodeId, at, reason],
  );
  return rows.length;
}
