import { inPart } from './scope.js';

/**
 * Reading the hourly rollups (migration 0012, src/store/functions/rollups.sql; docs/metrics.md
 * "Rollups"). Given a CTE `wins(cp, k, lo, hi)` (one or more windows per charger, k tells them
 * apart), these CTEs split each window into the part the rollups cover and the part after it:
 *   cov(cp, f, r)     the charger's covered hours [f, r): first rollup hour, and the rollup
 *                     watermark lowered to the hour of the earliest change still in the dirty log;
 *   rolled(cp, k, …)  microseconds online, down, excluded and charging within the covered part of
 *                     each window: whole hours as the difference of two running totals, the
 *                     partial hours at its edges from that hour's stored sets;
 * and the caller computes the rest, [r, hi) (or all of the window without rollups), directly.
 * Nothing before f exists (f is the hour of the charger's first record), so a window reaching
 * before it has nothing there to count, online, down or otherwise: windows of uptime start at
 * registration, which f never follows.
 */
const MEASURES = [
  ['online_us', 'online_mr'],
  ['down_us', 'down_mr'],
  ['excluded_us', 'excluded_mr'],
  ['charging_us', 'charging_mr'],
] as const;

const measure = ([total, set]: (typeof MEASURES)[number]) => `
         CASE WHEN m.a <= m.b
              THEN coalesce(rb.${total}, 0) - coalesce(ra.${total}, 0)
                   + dynamo_us(ra.${set} * tstzmultirange(tstzrange(m.l, m.a)))
                   + dynamo_us(rh.${set} * tstzmultirange(tstzrange(m.b, m.h)))
              ELSE dynamo_us(ra.${set} * tstzmultirange(tstzrange(m.l, m.h))) END AS ${total}`;

/**
 * How a query reads a fleet's rows: `auto` chooses by the size of the scope against the whole
 * table (below); `fleet` and `charger` force one way, so that the tests check both against the
 * direct computation whatever the table statistics say.
 */
export type ReadPath = 'auto' | 'fleet' | 'charger';

/**
 * SQL that is true when the fleet-wide way is taken: forced, or (`auto`) when `scopeRows` (a count
 * over the scope) times `ratio` exceeds the rows of `table` as the statistics know them (never
 * analysed: -1, so the fleet-wide way).
 */
export const widePath = (path: ReadPath, scopeRows: string, ratio: number, table: string) =>
  path === 'auto' ? `${scopeRows} * ${ratio} > (SELECT reltuples FROM pg_class WHERE oid = '${table}'::regclass)` : path === 'fleet' ? 'true' : 'false';

/** A statement in each of its read paths, built once. */
export const byPath = (sql: (path: ReadPath) => string): Record<ReadPath, string> => ({ auto: sql('auto'), fleet: sql('fleet'), charger: sql('charger') });

/**
 * cov(cp, f, r): each charger of the scope CTE with rollups and its covered hours [f, r): its first
 * rollup hour, and the watermark lowered to the hour of the earliest change still in the dirty log.
 */
export const COVERED_HOURS = `
  SELECT r.charge_point_id AS cp, r.first_hour AS f,
         least(r.rolled_until, date_trunc('hour', d.since, 'UTC')) AS r
    FROM rollup_chargers r
    LEFT JOIN (SELECT charge_point_id, min(since) AS since FROM rollup_dirty GROUP BY 1) d ON d.charge_point_id = r.charge_point_id
   WHERE r.first_hour IS NOT NULL AND r.charge_point_id IN (SELECT charge_point_id FROM scope)`;

export const rollupCtes = (path: ReadPath, part?: { lo: string; hi: string }) => `
cov AS (${COVERED_HOURS}),
marks AS MATERIALIZED (
  SELECT w.cp, w.k, x.l, x.h, c.f, dynamo_ceil_hour(x.l) AS a, date_trunc('hour', x.h, 'UTC') AS b
    FROM wins w JOIN cov c ON c.cp = w.cp
   CROSS JOIN LATERAL (SELECT greatest(w.lo, c.f) AS l, least(w.hi, c.r) AS h) x
   WHERE x.l < x.h),
-- The stored hours each window reads, exactly as rolled joins them below: the running total
-- before its first whole hour (a − 1), the one at its last (b − 1), and the set of the partial
-- hour at its end (b). Consecutive day buckets share their boundary hour.
wants AS MATERIALIZED (
  SELECT DISTINCT m.cp, x.hour
    FROM marks m
   CROSS JOIN LATERAL (VALUES (m.a - interval '1 hour', m.a > m.f),
                              (m.b - interval '1 hour', m.b > m.f AND m.a <= m.b),
                              (m.b, m.b < m.h AND m.a <= m.b)) AS x(hour, used)
   WHERE x.used),
-- Read set-based, not probed per window, in one of two ways (a one-time filter picks): a scope
-- that is a large part of the chargers reads the hours it wants for every charger (a range scan of
-- the hour-major key per hour, usually the same two or three hours; other tenants' rows fall away
-- at the join on the charger); a smaller one probes each (charger, hour) it wants, so a small
-- tenant never reads a large one's rows. The switch is at one charger in six: reading an hour
-- costs about a sixth of a probe per charger (docs/benchmarks.md, issue #15).
hours AS (
  SELECT (SELECT array_agg(DISTINCT hour) FROM wants) AS hs,
         ${widePath(path, '(SELECT count(*) FROM cov)', 6, 'rollup_chargers')} AS wide),
needed AS MATERIALIZED (
  SELECT rh.* FROM rollup_hours rh
   WHERE (SELECT wide FROM hours) AND rh.hour = ANY ((SELECT hs FROM hours)::timestamptz[])${part ? `
     AND ${inPart('rh.charge_point_id', part.lo, part.hi)}` : ''}
  UNION ALL
  SELECT rh.* FROM wants w JOIN rollup_hours rh ON rh.hour = w.hour AND rh.charge_point_id = w.cp
   WHERE NOT (SELECT wide FROM hours)),
rolled AS (
  SELECT m.cp, m.k,${MEASURES.map(measure).join(',')}
    FROM marks m
    LEFT JOIN needed ra ON ra.hour = m.a - interval '1 hour' AND ra.charge_point_id = m.cp AND m.a > m.f
    LEFT JOIN needed rb ON rb.hour = m.b - interval '1 hour' AND rb.charge_point_id = m.cp AND m.b > m.f AND m.a <= m.b
    LEFT JOIN needed rh ON rh.hour = m.b AND rh.charge_point_id = m.cp AND m.b < m.h AND m.a <= m.b)`;

/** Where the direct computation of a window starting at `lo` starts: after the covered hours of `c` (a cov row), if any. */
export const directFrom = (lo: string, c: string) => `CASE WHEN ${c}.r IS NULL THEN ${lo} ELSE greatest(${lo}, ${c}.r) END`;
