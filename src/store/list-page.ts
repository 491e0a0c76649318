import type { Page, Queryable } from './db.js';

/**
 * One list of the API: `[WITH with] SELECT columns FROM from WHERE where ORDER BY orderBy`, its
 * parameters $1…$n. `pageColumns` are computed for the rows of the page only (after the limit),
 * from the page's own columns (`page.<column>`): a per-row subquery there runs `limit` times, not
 * once per match.
 */
export interface ListQuery {
  with?: string;
  columns: string;
  from: string;
  where: string;
  orderBy: string;
  pageColumns?: string;
}

/**
 * A page of a list and the list's total, read in one statement and so from one snapshot: as two
 * statements, a row committed between them was counted and not listed (a session in `total: 1`
 * with no session, caught by test/commands.test.ts under load). A short page is the last one and
 * tells the total itself; only a full page counts the list (a search matching a few of 10,000
 * chargers is one scan, not two). A page past the end has no row to carry the total and is
 * counted on its own. The page keeps its order through `list_pos`, numbered over the rows as the
 * ordered, limited subquery yields them (numbering inside the ORDER BY would sort every match
 * where a top-N sort or an index walk stops at the limit: the errors list went 13 → 95 ms).
 */
export async function listPage<R>(db: Queryable, q: ListQuery, params: readonly unknown[], page: Page): Promise<{ rows: R[]; total: number }> {
  const [limit, offset] = [`$${params.length + 1}`, `$${params.length + 2}`];
  const count = `(SELECT count(*)::int FROM ${q.from} WHERE ${q.where})`;
  const withs = q.with ? `${q.with},` : '';
  const rows = await db.query<R & { list_total: number; list_pos: number }>(
    `WITH ${withs}
     page AS (SELECT q.*, row_number() OVER () AS list_pos
                FROM (SELECT ${q.columns} FROM ${q.from} WHERE ${q.where} ORDER BY ${q.orderBy} LIMIT ${limit} OFFSET ${offset}) q),
     page_n AS (SELECT count(*)::int AS n FROM page)
     SELECT page.*,${q.pageColumns ? ` ${q.pageColumns},` : ''}
            CASE WHEN (SELECT n FROM page_n) BETWEEN 1 AND ${limit} - 1 THEN ${offset} + (SELECT n FROM page_n) ELSE ${count} END AS list_total
       FROM page ORDER BY list_pos`,
    [...params, page.limit, page.offset],
  );
  if (rows.length > 0) return { rows: rows.map(({ list_total: _t, list_pos: _p, ...row }) => row as R), total: rows[0]!.list_total };
  if (page.offset === 0) return { rows: [], total: 0 };
  const [counted] = await db.query<{ n: number }>(`${q.with ? `WITH ${q.with} ` : ''}SELECT ${count} AS n`, params);
  return { rows: [], total: counted?.n ?? 0 };
}
