import type { Page, Queryable } from './db.js';

/** One list of the API: `SELECT columns FROM from WHERE where ORDER BY orderBy`, its parameters $1…$n. */
export interface ListQuery {
  columns: string;
  from: string;
  where: string;
  orderBy: string;
}

/**
 * A page of a list and the list's total, read in one statement and so from one snapshot: as two
 * statements, a row committed between them was counted and not listed (a session in `total: 1`
 * with no session, caught by test/commands.test.ts under load). The count is an uncorrelated
 * subquery, computed once. A page past the end has no row to carry it and is counted on its own.
 */
export async function listPage<R>(db: Queryable, q: ListQuery, params: readonly unknown[], page: Page): Promise<{ rows: R[]; total: number }> {
  const n = params.length;
  const counted = await db.query<R & { list_total: number }>(
    `SELECT ${q.columns}, (SELECT count(*)::int FROM ${q.from} WHERE ${q.where}) AS list_total
       FROM ${q.from} WHERE ${q.where} ORDER BY ${q.orderBy} LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...params, page.limit, page.offset],
  );
  if (counted.length > 0) return { rows: counted.map(({ list_total: _, ...row }) => row as R), total: counted[0]!.list_total };
  if (page.offset === 0) return { rows: [], total: 0 };
  const [count] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${q.from} WHERE ${q.where}`, params);
  return { rows: [], total: count?.n ?? 0 };
}
