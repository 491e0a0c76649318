import type { Db, Queryable } from '../db.js';
import { closeConnectionsOfNode } from './connections.js';

export async function registerNode(db: Queryable, nodeId: string, hostname: string): Promise<void> {
  await db.query('INSERT INTO nodes (node_id, hostname, started_at, lease_at) VALUES ($1, $2, now(), now())', [nodeId, hostname]);
}

export async function renewLease(db: Queryable, nodeId: string): Promise<void> {
  await db.query('UPDATE nodes SET lease_at = now() WHERE node_id = $1', [nodeId]);
}

export async function markNodeStopped(db: Queryable, nodeId: string): Promise<void> {
  await db.query('UPDATE nodes SET stopped_at = now(), lease_at = now() WHERE node_id = $1', [nodeId]);
}

/**
 * Finds nodes whose lease lapsed without a clean stop and closes the
 * connections they left open at their last lease time, so a crashed period
 * never counts as online. One transaction: a node is marked stopped only
 * together with the closing of its connections, so a failure part-way leaves
 * it to the next attempt instead of stopped with its connections still open.
 */
export async function recoverExpiredNodes(db: Db, selfId: string, ttlSec: number): Promise<{ nodes: string[]; connections: number }> {
  return db.transaction(async (tx) => {
    const dead = await tx.query<{ node_id: string; lease_at: Date }>(
      `UPDATE nodes SET stopped_at = lease_at
        WHERE node_id <> $1 AND stopped_at IS NULL AND lease_at < now() - make_interval(secs => $2)
        RETURNING node_id, lease_at`,
      [selfId, ttlSec],
    );
    let connections = 0;
    for (const n of dead) connections += await closeConnectionsOfNode(tx, n.node_id, n.lease_at, 'crash_recovery');
    return { nodes: dead.map((n) => n.node_id), connections };
  });
}
