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

export const ROLLUP_CTES = `
cov AS (
  SELECT r.charge_point_id AS cp, r.first_hour AS f,
         least(r.rolled_until, date_trunc('hour', d.since, 'UTC')) AS r
    FROM rollup_chargers r
    LEFT JOIN (SELECT charge_point_id, min(since) AS since FROM rollup_dirty GROUP BY 1) d ON d.charge_point_id = r.charge_point_id
   WHERE r.first_hour IS NOT NULL AND r.charge_point_id IN (SELECT cp FROM wins)),
marks AS MATERIALIZED (
  SELECT w.cp, w.k, x.l, x.h, c.f, dynamo_ceil_hour(x.l) AS a, date_trunc('hour', x.h, 'UTC') AS b
    FROM wins w JOIN cov c ON c.cp = w.cp
   CROSS JOIN LATERAL (SELECT greatest(w.lo, c.f) AS l, least(w.hi, c.r) AS h) x
   WHERE x.l < x.h),
-- The few hours the windows need, read set-based (usually the same two or three hours for every
-- charger: one range scan of the hour-major key each) and joined by hash, not probed per window.
needed AS MATERIALIZED (
  SELECT rh.* FROM rollup_hours rh
   WHERE rh.hour = ANY ((SELECT array_agg(DISTINCT x) FROM marks m, unnest(ARRAY[m.a - interval '1 hour', m.b - interval '1 hour', m.b]) AS x)::timestamptz[])
     AND rh.charge_point_id IN (SELECT cp FROM marks)),
rolled AS (
  SELECT m.cp, m.k,${MEASURES.map(measure).join(',')}
    FROM marks m
    LEFT JOIN needed ra ON ra.hour = m.a - interval '1 hour' AND ra.charge_point_id = m.cp AND m.a > m.f
    LEFT JOIN needed rb ON rb.hour = m.b - interval '1 hour' AND rb.charge_point_id = m.cp AND m.b > m.f AND m.a <= m.b
    LEFT JOIN needed rh ON rh.hour = m.b AND rh.charge_point_id = m.cp AND m.b < m.h AND m.a <= m.b)`;

/** Where the direct computation of a charger's window starts: after the covered hours, if any. */
export const directFrom = (w: string, c: string) => `CASE WHEN ${c}.r IS NULL THEN ${w}.lo ELSE greatest(${w}.lo, ${c}.r) END`;
