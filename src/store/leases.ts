import type { Queryable } from './db.js';

/*
 * Work one node of a cluster does at a time (the alert evaluator): a named lease in the database
 * (table singleton_leases, migration 0009) that lapses when its holder stops renewing it.
 */

/** Takes or renews a named lease for this node; false while another node holds it. */
export async function holdSingletonLease(db: Queryable, name: string, nodeId: string, ttlSec: number): Promise<boolean> {
  const rows = await db.query<{ node_id: string }>(
    `INSERT INTO singleton_leases (name, node_id, lease_until) VALUES ($1, $2, now() + make_interval(secs => $3))
     ON CONFLICT (name) DO UPDATE SET node_id = excluded.node_id, lease_until = excluded.lease_until
      WHERE singleton_leases.node_id = excluded.node_id OR singleton_leases.lease_until < now()
     RETURNING node_id`,
    [name, nodeId, ttlSec],
  );
  return rows.length > 0;
}

export async function releaseSingletonLease(db: Queryable, name: string, nodeId: string): Promise<void> {
  await db.query('DELETE FROM singleton_leases WHERE name = $1 AND node_id = $2', [name, nodeId]);
}
