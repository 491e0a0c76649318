import type { Queryable } from './db.js';

export interface RefreshStep {
  /** Hours are written up to the one before this (never later than 15 minutes ago). */
  seal: Date;
  /** Chargers per step and hours per charger per step: the size of one transaction. */
  chargers: number;
  hours: number;
}

/** One step of rollup maintenance (src/store/functions/rollups.sql); the hour rows written, 0 when there was nothing to do. */
export async function refreshRollups(db: Queryable, step: RefreshStep): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT dynamo_rollup_refresh($1, $2, $3) AS n', [step.seal, step.chargers, step.hours]);
  return row?.n ?? 0;
}

/** Steps until nothing is left to do up to `seal` (tests, benchmarks, the first build); the total hour rows written. */
export async function refreshRollupsFully(db: Queryable, seal: Date, chargers = 500, hours = 24 * 7): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await refreshRollups(db, { seal, chargers, hours });
    // A step that only applied the dirty log or registered chargers writes no rows but may leave work.
    if (n === 0 && !(await rollupWorkLeft(db, seal))) return total;
    total += n;
  }
}

/** Whether a refresh up to `seal` has anything left to do. */
export async function rollupWorkLeft(db: Queryable, seal: Date): Promise<boolean> {
  const [row] = await db.query<{ left: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM rollup_dirty)
         OR EXISTS (SELECT 1 FROM chargers c WHERE NOT EXISTS (SELECT 1 FROM rollup_chargers r WHERE r.charge_point_id = c.charge_point_id))
         OR EXISTS (SELECT 1 FROM rollup_chargers WHERE first_hour IS NULL
                       OR rolled_until < date_trunc('hour', least($1::timestamptz, now() - interval '15 minutes'), 'UTC')) AS left`,
    [seal],
  );
  return row?.left ?? false;
}
