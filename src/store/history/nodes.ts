import type { Db, Page, Queryable } from '../db.js';
import { closeConnectionsOfNode } from './connections.js';

export interface NodeRegistration {
  nodeId: string;
  hostname: string;
  version: string;
  leaseTtlSec: number;
}

export async function registerNode(db: Queryable, n: NodeRegistration): Promise<void> {
  await db.query(
    'INSERT INTO nodes (node_id, hostname, version, lease_ttl_sec, started_at, lease_at) VALUES ($1, $2, $3, $4, now(), now())',
    [n.nodeId, n.hostname, n.version, n.leaseTtlSec],
  );
}

/**
 * Renews the lease; false when another node already presumed this one dead (its lease had
 * lapsed, recovery closed its connections and released its chargers): the node is fenced.
 */
export async function renewLease(db: Queryable, nodeId: string): Promise<boolean> {
  const rows = await db.query('UPDATE nodes SET lease_at = now() WHERE node_id = $1 AND stopped_at IS NULL RETURNING 1', [nodeId]);
  return rows.length > 0;
}

/** A fenced node that goes on serving takes a fresh lease under the same id (it holds nothing any more). */
export async function reviveNode(db: Queryable, nodeId: string): Promise<void> {
  await db.query('UPDATE nodes SET stopped_at = NULL, lease_at = now() WHERE node_id = $1', [nodeId]);
}

export async function markNodeDraining(db: Queryable, nodeId: string): Promise<void> {
  await db.query('UPDATE nodes SET draining_at = coalesce(draining_at, now()) WHERE node_id = $1', [nodeId]);
}

/**
 * A clean stop. Every disconnect was recorded already; what is still open (a disconnect that could
 * not be written) is closed now, so no interval outlives its node, and the node's holds go with it.
 */
export async function markNodeStopped(db: Db, nodeId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('UPDATE nodes SET stopped_at = now(), lease_at = now() WHERE node_id = $1', [nodeId]);
    await closeConnectionsOfNode(tx, nodeId, new Date(), 'server_shutdown');
    await tx.query('DELETE FROM charger_holds WHERE node_id = $1', [nodeId]);
  });
}

/**
 * Finds nodes whose lease lapsed without a clean stop and closes the
 * connections they left open at their last lease time, so a crashed period
 * never counts as online, and releases the chargers they held. One transaction:
 * a node is marked stopped only together with the closing of its connections, so
 * a failure part-way leaves it to the next attempt instead of stopped with its
 * connections still open.
 */
export async function recoverExpiredNodes(db: Db, selfId: string, ttlSec: number): Promise<{ nodes: string[]; connections: number }> {
  return db.transaction(async (tx) => {
    const dead = await tx.query<{ node_id: string; lease_at: Date }>(
      `UPDATE nodes SET stopped_at = lease_at
        WHERE node_id <> $1 AND stopped_at IS NULL
          AND lease_at < now() - make_interval(secs => greatest($2, coalesce(lease_ttl_sec, 0)))
        RETURNING node_id, lease_at`,
      [selfId, ttlSec],
    );
    let connections = 0;
    for (const n of dead) {
      connections += await closeConnectionsOfNode(tx, n.node_id, n.lease_at, 'crash_recovery');
      await tx.query('DELETE FROM charger_holds WHERE node_id = $1', [n.node_id]);
    }
    return { nodes: dead.map((n) => n.node_id), connections };
  });
}

export type NodeState = 'active' | 'draining' | 'expired' | 'stopped';

export interface NodeRow {
  node_id: string;
  hostname: string;
  version: string | null;
  state: NodeState;
  started_at: Date;
  lease_at: Date;
  lease_expires_at: Date | null;
  draining_at: Date | null;
  stopped_at: Date | null;
  held_chargers: number;
}

const NODE_COLUMNS = `n.node_id, n.hostname, n.version, n.started_at, n.lease_at, n.draining_at, n.stopped_at,
  n.lease_at + make_interval(secs => n.lease_ttl_sec) AS lease_expires_at,
  CASE WHEN n.stopped_at IS NOT NULL THEN 'stopped'
       WHEN n.lease_at < now() - make_interval(secs => coalesce(n.lease_ttl_sec, 0)) THEN 'expired'
       WHEN n.draining_at IS NOT NULL THEN 'draining'
       ELSE 'active' END AS state,
  (SELECT count(*) FROM charger_holds h WHERE h.node_id = n.node_id)::int AS held_chargers`;

/** Nodes, newest first; stopped ones only with `all`. "expired": the lease lapsed and recovery has not run yet. */
export async function listNodes(db: Queryable, opts: Page & { all: boolean }): Promise<{ rows: NodeRow[]; total: number }> {
  const where = opts.all ? 'true' : 'n.stopped_at IS NULL';
  const [rows, [count]] = await Promise.all([
    db.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM nodes n WHERE ${where} ORDER BY n.started_at DESC, n.node_id LIMIT $1 OFFSET $2`, [opts.limit, opts.offset]),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM nodes n WHERE ${where}`),
  ]);
  return { rows, total: count!.n };
}

export async function getNode(db: Queryable, nodeId: string): Promise<NodeRow | undefined> {
  const [row] = await db.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM nodes n WHERE n.node_id = $1`, [nodeId]);
  return row;
}
