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
     AND ${inPart('c.charge_point_id', lo, hi)})`;

/** SQL: `column` (a charger id) lies in the part [lo, hi), NULL bounds open (parameters, as scopeParts gives them). */
export const inPart = (column: string, lo: string, hi: string) =>
  `(${lo}::text IS NULL OR ${column} >= ${lo}::text) AND (${hi}::text IS NULL OR ${column} < ${hi}::text)`;

/** SQL: now, the same instant for every part of a split answer (`at` of scopeParts, a parameter); NULL: the statement's own. */
export const partNow = (at: string) => `coalesce(${at}::timestamptz, now())`;

export interface PartOptions {
  /**
   * Statements to run at once for a large scope, one range of charger ids each (a pool runs them on
   * as many connections and cores); 1, the default, is one statement. Only on a pool, never in a
   * transaction (its one connection would run them one after another).
   */
  parts?: number;
  /** Chargers a part must have (tests lower it). */
  minPerPart?: number;
}

/** Bounds [lo, hi) of one part of a scope; NULL is open. */
type ScopePart = readonly [lo: string | null, hi: string | null];

interface ScopeSplit {
  parts: ScopePart[];
  /**
   * The one instant every part counts as now (the database's), so that a window reaching past now
   * ends at the same moment for every charger of the answer; NULL for one statement (its own now()).
   */
  at: Date | null;
}

const WHOLE: ScopeSplit = { parts: [[null, null]], at: null };

/**
 * Splits a scope into ranges of charger ids of about equal size, in the database's own order of
 * ids, so that the parts' answers, each ordered by id, concatenate into the answer of the whole.
 * Half-open ranges: each charger is in exactly one part, whatever is registered between the parts'
 * statements. As many parts as asked, but none with fewer than `minPerPart` chargers (a small part
 * costs more as a statement than it saves): a scope below twice that stays whole.
 */
async function scopeParts(db: Queryable, scope: Scope, parts: number, minPerPart: number): Promise<ScopeSplit> {
  if (parts <= 1 || scope.chargePointId) return WHOLE;
  const [row] = await db.query<{ k: number; at: Date; bounds: string[] | null }>(
    `WITH ${SCOPE_CTE},
     n AS (SELECT least($4::int, count(*)::int / $5::int) AS k FROM scope)
     SELECT n.k, now() AS at,
            CASE WHEN n.k > 1 THEN (
              SELECT percentile_disc(ARRAY(SELECT i::float8 / n.k FROM generate_series(1, n.k - 1) AS i)) WITHIN GROUP (ORDER BY charge_point_id)
                FROM scope) END AS bounds
       FROM n`,
    [...scopeParams(scope), parts, minPerPart],
  );
  if (!row || row.k <= 1 || !row.bounds) return WHOLE;
  const bounds = [...new Set(row.bounds)];
  return { parts: [null, ...bounds].map((lo, i): ScopePart => [lo, bounds[i] ?? null]), at: row.at };
}

/**
 * Runs `query` once for each part of the scope (scopeParts), all at once, given the part's bounds
 * and its now as its last three parameters; the rows of the parts in order. Each part's rows must be
 * ordered by charger id: the ranges follow one another in the database's order of ids, so the
 * concatenation is the order of the whole.
 */
export async function queryInParts<R>(db: Queryable, scope: Scope, opts: PartOptions, minPerPart: number, query: (params: [lo: string | null, hi: string | null, at: Date | null]) => Promise<R[]>): Promise<R[]> {
  const split = await scopeParts(db, scope, opts.parts ?? 1, opts.minPerPart ?? minPerPart);
  return (await Promise.all(split.parts.map(([lo, hi]) => query([lo, hi, split.at])))).flat();
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
