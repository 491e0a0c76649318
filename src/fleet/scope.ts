import type { Queryable } from '../store/db.js';

/**
 * The chargers a fleet query covers: one tenant, optionally one site or one
 * charger, as conditions on a row of chargers. Every fleet query applies them
 * (most through SCOPE_CTE), so tenant isolation is in one place. Parameters
 * $1 tenant, $2 site_id, $3 charge_point_id.
 */
export const scopeWhere = (c: string) => `${c}.tenant_id = $1
     AND ($2::text IS NULL OR ${c}.site_id = $2)
     AND ($3::text IS NULL OR ${c}.charge_point_id = $3)`;

export const SCOPE_CTE = `scope AS (
  SELECT c.charge_point_id, c.site_id, c.registered_at
    FROM chargers c
   WHERE ${scopeWhere('c')})`;

export interface Scope {
  tenantId: string;
  siteId?: string | null;
  chargePointId?: string | null;
}

export const scopeParams = (s: Scope) => [s.tenantId, s.siteId ?? null, s.chargePointId ?? null];

/** Seconds covered by a tstzmultirange expression. */
export const seconds = (multirange: string) =>
  `coalesce((SELECT extract(epoch FROM sum(upper(r) - lower(r))) FROM unnest(${multirange}) AS r), 0)::double precision`;

/** Rounds to one decimal, as every percentage of the API. */
export const oneDecimal = (n: number) => Math.round(n * 10) / 10;

/** How many chargers a scope covers (to bound the size of an answer before computing it). */
export async function countScope(db: Queryable, scope: Scope): Promise<number> {
  const [row] = await db.query<{ n: number }>(`WITH ${SCOPE_CTE} SELECT count(*)::int AS n FROM scope`, scopeParams(scope));
  return row?.n ?? 0;
}

/**
 * The total of a paged list: known from the page itself when the page is the
 * last one, else counted (a separate count is cheaper than a window count that
 * materialises every match).
 */
export async function pageTotal(rows: number, page: { limit: number; offset: number }, count: () => Promise<number>): Promise<number> {
  if (rows < page.limit && (rows > 0 || page.offset === 0)) return page.offset + rows;
  return count();
}
