import type { Queryable } from './db.js';

/**
 * Deletes up to `chunk` of the oldest seqNo guard rows of OCPP 2.x TransactionEvents received before
 * `before` (migration 0021); returns how many it deleted.
 */
export async function pruneTransactionGuard(db: Queryable, before: Date, chunk: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH oldest AS (
       SELECT charge_point_id, transaction_id, seq_no FROM transaction_event_seq
        WHERE received_at < $1 ORDER BY received_at LIMIT $2),
     gone AS (
       DELETE FROM transaction_event_seq g USING oldest o
        WHERE g.charge_point_id = o.charge_point_id AND g.transaction_id = o.transaction_id AND g.seq_no = o.seq_no
       RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [before, chunk],
  );
  return rows[0]?.n ?? 0;
}
