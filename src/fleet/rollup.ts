import { inPart } from './scope.js';

/**
 * Reading the hourly rollups (migration 0012, src/store/functions/rollups.sql; docs/metrics.md
 * "Rollups"). Given a CTE `wins(cp, lo, hi, …)` (one window per charger), these CTEs split each
 * window into the part the rollups cover and the part after it:
 *   spans(…, f, r)    each window with its charger's covered hours [f, r): first rollup hour, and
 *                     the rollup watermark lowered to the hour of the earliest change still in the
 *                     dirty log (both NULL without rollups);
 *   rolled(cp, …)     microseconds of each measure within the covered part of the window: whole
 *                     hours as the difference of two running totals, the partial hours at its
 *                     edges from that hour's stored sets;
 * and the caller computes the rest, [r, hi) (or all of the window without rollups), directly.
 * Nothing before f exists (f is the hour of the charger's first record), so a window reaching
 * before it has nothing there to count, online, down or otherwise: windows of uptime start at
 * registration, which f never follows.
 */
export type Measure = 'online' | 'down' | 'excluded' | 'charging';

/**
 * A stored row's part of one measure of its charger's covered span [l, h), whole hours [a, b): a
 * row may play more than one of these parts (when a = b the hour before both is the same row):
 *   the hour before a (a − 1): minus its running total, plus its set within [l, a);
 *     or, when l and h lie in one hour (a > b), its set within [l, h) alone;
 *   the hour before b (b − 1): plus its running total;
 *   the hour b, when h falls inside it: its set within [b, h).
 * No row at or after r is ever used: a − 1 < b ≤ h ≤ r, and b only when b < h.
 */
const share = (x: Measure) => `
           CASE WHEN rh.hour = m.a - interval '1 hour' AND m.a > m.f
                THEN CASE WHEN m.a <= m.b THEN dynamo_us(rh.${x}_mr * tstzmultirange(tstzrange(m.l, m.a))) - rh.${x}_us
                          ELSE dynamo_us(rh.${x}_mr * tstzmultirange(tstzrange(m.l, m.h))) END
                ELSE 0 END
         + CASE WHEN rh.hour = m.b - interval '1 hour' AND m.b > m.f AND m.a <= m.b THEN rh.${x}_us ELSE 0 END
         + CASE WHEN rh.hour = m.b AND m.b < m.h AND m.a <= m.b THEN dynamo_us(rh.${x}_mr * tstzmultirange(tstzrange(m.b, m.h))) ELSE 0 END`;

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
  SELECT s.charge_point_id AS cp, r.first_hour AS f,
         least(r.rolled_until, dynamo_hour(d.since)) AS r
    FROM scope s
    JOIN rollup_chargers r ON r.charge_point_id = s.charge_point_id AND r.first_hour IS NOT NULL
    LEFT JOIN (SELECT charge_point_id, min(since) AS since FROM rollup_dirty GROUP BY 1) d ON d.charge_point_id = s.charge_point_id`;

/**
 * SQL: the stored hours the covered span of a spans row m reads, as share uses them (NULL where a
 * part is not played): the hour before a, the hour before b, and b when h falls inside it.
 */
const WANTED_HOURS = `ARRAY[CASE WHEN m.a > m.f THEN m.a - interval '1 hour' END,
                            CASE WHEN m.b > m.f AND m.a <= m.b THEN m.b - interval '1 hour' END,
                            CASE WHEN m.b < m.h AND m.a <= m.b THEN m.b END]`;

/**
 * The hours a window needs are read once and joined once: each stored row is summed into its
 * charger's figures by the part it plays (share), not joined three times (once per part), which
 * sorted every row read three times. `dynamo_hour`/`dynamo_ceil_hour` are single expressions the
 * planner inlines (rollups.sql); `date_trunc` with a time zone is not immutable and kept the old
 * ceiling function from being inlined (a function call per charger).
 */
export const rollupCtes = (path: ReadPath, measures: readonly Measure[], part?: { lo: string; hi: string }) => {
  const columns = `rh.hour, rh.charge_point_id, ${measures.map((x) => `rh.${x}_us, rh.${x}_mr`).join(', ')}`;
  return `
-- Every window with its charger's covered hours (r NULL: no rollups) and the covered span [l, h)
-- with its whole hours [a, b); one pass over the scope, joined on the charger once.
spans AS MATERIALIZED (
  SELECT w.*, c.f, c.r, x.l, x.h, x.l < x.h AS covered, dynamo_ceil_hour(x.l) AS a, dynamo_hour(x.h) AS b
    FROM wins w
    LEFT JOIN (${COVERED_HOURS}) c ON c.cp = w.cp
   -- NULL without rollups (greatest and least skip NULLs, so each is guarded).
   CROSS JOIN LATERAL (SELECT CASE WHEN c.r IS NOT NULL THEN greatest(w.lo, c.f) END AS l,
                              CASE WHEN c.r IS NOT NULL THEN least(w.hi, c.r) END AS h) x),
-- Read set-based, not probed per window, in one of two ways (a one-time filter picks): a scope
-- that is a large part of the chargers reads the hours it wants for every charger (a range scan of
-- the hour-major key per hour, usually the same two or three hours; other tenants' rows fall away
-- at the join on the charger); a smaller one probes each (charger, hour) it wants, so a small
-- tenant never reads a large one's rows. The switch is at one charger in six: reading an hour
-- costs about a sixth of a probe per charger (docs/benchmarks.md, issue #15).
hours AS (
  SELECT (SELECT array_agg(DISTINCT x.hour) FROM spans m CROSS JOIN LATERAL unnest(${WANTED_HOURS}) AS x(hour) WHERE m.covered AND x.hour IS NOT NULL) AS hs,
         ${widePath(path, '(SELECT count(*) FROM spans WHERE r IS NOT NULL)', 6, 'rollup_chargers')} AS wide),
needed AS MATERIALIZED (
  SELECT ${columns} FROM rollup_hours rh
   WHERE (SELECT wide FROM hours) AND rh.hour = ANY ((SELECT hs FROM hours)::timestamptz[])${part ? `
     AND ${inPart('rh.charge_point_id', part.lo, part.hi)}` : ''}
  UNION ALL
  SELECT ${columns}
    FROM spans m JOIN rollup_hours rh ON rh.charge_point_id = m.cp AND rh.hour = ANY (${WANTED_HOURS})
   WHERE NOT (SELECT wide FROM hours) AND m.covered),
rolled AS (
  SELECT m.cp,${measures.map((x) => `
         sum(${share(x)}) AS ${x}_us`).join(',')}
    FROM spans m JOIN needed rh ON rh.charge_point_id = m.cp AND rh.hour = ANY (${WANTED_HOURS})
   WHERE m.covered
   GROUP BY m.cp)`;
};

/** Where the direct computation of a window starting at `lo` starts: after the covered hours of `c` (a row with their end r, NULL without rollups), if any. */
export const directFrom = (lo: string, c: string) => `CASE WHEN ${c}.r IS NULL THEN ${lo} ELSE greatest(${lo}, ${c}.r) END`;
