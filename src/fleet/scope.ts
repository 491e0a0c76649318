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

/**
 * The scope cut to the chargers with lo <= id < hi (either bound may be NULL: no bound), for one
 * fleet query run as several statements at once (`scopeParts`). Parameters as SCOPE_CTE, and the
 * two bounds at the given positions.
 */
export const partScopeCte = (lo: string, hi: string) => `scope AS (
  SELECT c.charge_point_id, c.site_id, c.registered_at
    FROM chargers c
   WHERE ${scopeWhere('c')}
     AND (${lo}::text IS NULL OR c.charge_point_id >= ${lo}::text)
     AND (${hi}::text IS NULL OR c.charge_point_id < ${hi}::text))`;

/** Bounds [lo, hi) of one part of a scope; NULL is open. */
export type ScopePart = readonly [lo: string | null, hi: string | null];

/**
 * Splits a scope into up to `parts` ranges of charger ids of about equal size, in the database's
 * own order of ids, so that the parts' answers, each ordered by id, concatenate into the answer of
 * the whole. Half-open ranges: each charger is in exactly one part, whatever is registered between
 * the parts' statements. One part (the whole scope) when it has fewer than `minPerPart` chargers
 * a part: splitting a small scope costs more statements than it saves.
 */
export async function scopeParts(db: Queryable, scope: Scope, parts: number, minPerPart: number): Promise<ScopePart[]> {
  if (parts <= 1 || scope.chargePointId) return [[null, null]];
  const cuts = Array.from({ length: parts - 1 }, (_, i) => (i + 1) / parts);
  const [row] = await db.query<{ n: number; bounds: string[] | null }>(
    `WITH ${SCOPE_CTE}
     SELECT count(*)::int AS n, percentile_disc($4::float8[]) WITHIN GROUP (ORDER BY charge_point_id) AS bounds FROM scope`,
    [...scopeParams(scope), cuts],
  );
  if (!row || row.n < parts * minPerPart || !row.bounds) return [[null, null]];
  const bounds = [...new Set(row.bounds)];
  return [null, ...bounds].map((lo, i): ScopePart => [lo, bounds[i] ?? null]);
}

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
