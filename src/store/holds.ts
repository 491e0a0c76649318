import type { Page, Queryable } from './db.js';

/** Which node holds a charger, through which of its connections (docs/operations.md "Cluster"). */
export interface Hold {
  nodeId: string;
  connectionId: number;
  /** The OCPP version of that connection ("1.6", "2.0.1", "2.1"). */
  ocppVersion: string;
}

/**
 * The routing function: the node holding the charger, if its lease is live. A hold of a node whose
 * lease lapsed or that stopped is no hold: that node is dead or fenced, and the charger is offline
 * until it connects again.
 */
export async function holderOf(db: Queryable, chargePointId: string): Promise<Hold | undefined> {
  const [row] = await db.query<{ node_id: string; connection_id: string; ocpp_version: string }>(
    `SELECT h.node_id, h.connection_id, k.ocpp_version FROM charger_holds h JOIN nodes n ON n.node_id = h.node_id
       JOIN connections k ON k.connection_id = h.connection_id
      WHERE h.charge_point_id = $1 AND n.stopped_at IS NULL
        AND n.lease_at >= now() - make_interval(secs => coalesce(n.lease_ttl_sec, 0))`,
    [chargePointId],
  );
  return row ? { nodeId: row.node_id, connectionId: Number(row.connection_id), ocppVersion: row.ocpp_version } : undefined;
}

/** Every charger the database says this node holds, with the connection it holds it through. */
export async function holdsOfNode(db: Queryable, nodeId: string): Promise<Map<string, number>> {
  const rows = await db.query<{ charge_point_id: string; connection_id: string }>(
    'SELECT charge_point_id, connection_id FROM charger_holds WHERE node_id = $1',
    [nodeId],
  );
  return new Map(rows.map((r) => [r.charge_point_id, Number(r.connection_id)]));
}

export interface HeldCharger {
  charge_point_id: string;
  connection_id: number;
  held_since: Date;
}

export async function listHeldChargers(db: Queryable, nodeId: string, page: Page): Promise<{ rows: HeldCharger[]; total: number }> {
  const [rows, [count]] = await Promise.all([
    db.query<HeldCharger>(
      `SELECT charge_point_id, connection_id, held_since FROM charger_holds
        WHERE node_id = $1 ORDER BY charge_point_id LIMIT $2 OFFSET $3`,
      [nodeId, page.limit, page.offset],
    ),
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM charger_holds WHERE node_id = $1', [nodeId]),
  ]);
  return { rows, total: count!.n };
}
