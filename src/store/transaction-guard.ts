import type { Queryable } from './db.js';

/**
 * Deletes up to `chunk` of the oldest seqNo guard rows of OCPP 2.x TransactionEvents received before
 * `before` (migration 0021); returns how many it deleted. The rows are picked by the received_at key
 * and deleted by their physical address, so a chunk costs the same however large the table is; rows
 * another node is deleting at the same moment are skipped, not waited for.
 */
export async function pruneTransactionGuard(db: Queryable, before: Date, chunk: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM transaction_event_seq
        WHERE ctid = ANY (ARRAY(
          SELECT ctid FROM transaction_event_seq
           WHERE received_at < $1 ORDER BY received_at LIMIT $2
             FOR UPDATE SKIP LOCKED))
       RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [before, chunk],
  );
  return rows[0]?.n ?? 0;
}
