import type { Queryable } from '../store/db.js';
import { SCOPE_CTE, oneDecimal, scopeParams, type Scope } from './scope.js';
import { COVERED_HOURS, directFrom } from './rollup.js';

export type Granularity = 'hour' | 'day' | 'week' | 'month';

export interface UtilisationBucket {
  period_start: Date;
  utilisation_percent: number | null;
  charging_minutes: number;
  online_minutes: number;
}

/**
 * The online (`on_mr`) and charging-while-online (`ch_mr`) multiranges of `active`, cut at the
 * bucket boundaries each range crosses (usually one or two buckets). $4 from, $5 to, $6 granularity.
 */
const CUT_AT_BUCKETS = `pieces AS (
  SELECT a.charge_point_id, 'on' AS kind, u.x FROM active a, unnest(a.on_mr) AS u(x)
  UNION ALL
  SELECT a.charge_point_id, 'ch', u.x FROM active a, unnest(a.ch_mr) AS u(x)),
cut AS (
  SELECT p.charge_point_id, p.kind, bk.bstart, upper(p.x * bk.r) - lower(p.x * bk.r) AS d
    FROM pieces p CROSS JOIN LATERAL (
      SELECT $4::timestamptz AS bstart, tstzrange($4::timestamptz, $5::timestamptz) AS r WHERE $6::text IS NULL
      UNION ALL
      SELECT g AT TIME ZONE 'UTC', tstzrange(g AT TIME ZONE 'UTC', (g + ('1 ' || $6::text)::interval) AT TIME ZONE 'UTC')
        FROM generate_series(date_trunc($6::text, lower(p.x) AT TIME ZONE 'UTC'), (upper(p.x) AT TIME ZONE 'UTC') - interval '1 microsecond', ('1 ' || $6::text)::interval) AS g
       WHERE $6::text IS NOT NULL) bk)`;

/**
 * Per bucket: time a connector was Charging while the charger was online ÷ time
 * online, ×100 (DESIGN.md §3). Buckets align to UTC (ISO weeks from Monday,
 * calendar months); only the part inside [from, to] counts. $4 from, $5 to,
 * $6 granularity ('hour' | 'day' | 'week' | 'month'), or NULL for one bucket over the whole period.
 */
const DIRECT_SQL = `
WITH ${SCOPE_CTE},
period AS (SELECT tstzmultirange(tstzrange($4::timestamptz, $5::timestamptz)) AS p),
buckets AS (
  SELECT b AT TIME ZONE 'UTC' AS bstart
    FROM generate_series(date_trunc($6::text, $4::timestamptz AT TIME ZONE 'UTC'), $5::timestamptz AT TIME ZONE 'UTC', ('1 ' || $6::text)::interval) AS b
   WHERE $6::text IS NOT NULL AND b AT TIME ZONE 'UTC' < $5::timestamptz
  UNION ALL
  SELECT $4::timestamptz WHERE $6::text IS NULL),
-- Per charger (LATERAL, so each walks its own index entries): online time, and
-- Charging time while online, both clipped to the period. One multirange
-- operation per charger, not per bucket.
active AS (
  SELECT s.charge_point_id,
         coalesce(o.mr, '{}') * period.p AS on_mr,
         coalesce(o.mr, '{}') * coalesce(c.mr, '{}') * period.p AS ch_mr
    FROM scope s CROSS JOIN period
    CROSS JOIN LATERAL (
      SELECT range_agg(tstzrange(k.connected_at, coalesce(k.disconnected_at, now()))) AS mr FROM connections k
       WHERE k.charge_point_id = s.charge_point_id AND k.connected_at < $5 AND coalesce(k.disconnected_at, 'infinity') > $4) o
    CROSS JOIN LATERAL (
      SELECT range_agg(tstzrange(i.started_at, coalesce(i.ended_at, now()))) AS mr FROM connector_status_intervals i
       WHERE i.charge_point_id = s.charge_point_id AND i.status = 'Charging'
         AND i.started_at < $5 AND coalesce(i.ended_at, 'infinity') > $4) c),
${CUT_AT_BUCKETS},
cells AS (
  SELECT charge_point_id, bstart,
         extract(epoch FROM sum(d) FILTER (WHERE kind = 'on'))::double precision AS online_s,
         extract(epoch FROM sum(d) FILTER (WHERE kind = 'ch'))::double precision AS charging_s
    FROM cut GROUP BY 1, 2)
SELECT s.charge_point_id, b.bstart AS period_start, coalesce(c.online_s, 0) AS online_s, coalesce(c.charging_s, 0) AS charging_s
  FROM scope s CROSS JOIN buckets b
  LEFT JOIN cells c ON c.charge_point_id = s.charge_point_id AND c.bstart = b.bstart
 ORDER BY s.charge_point_id, b.bstart`;

/**
 * The same figures from the hourly rollups (rollup.ts, docs/metrics.md "Rollups") for the part of
 * the period they cover, plus the computation above for the rest (after the rollup watermark, or
 * all of it without rollups), which reads only the intervals ending after that part starts.
 *
 * In the covered span [lo, hi) of a charger every bucket is T(end) − T(start), T(p) the running
 * total at instant p. So each charger's span is cut at its points — lo, every bucket start inside,
 * hi — and each bucket is the difference of two neighbouring points (lead): one stored row per
 * bucket boundary, not three rows per bucket. Every bucket start is a whole UTC hour, and for
 * day, week and month the last hour before it is 23:00 UTC, whose rows a partial index holds
 * (migration 0020): a charger's boundaries are one short range scan of it, not a probe each. Only
 * lo and hi may fall inside an hour (`from` and `to`): T there adds that hour's stored set, clipped.
 */
const rollupSql = `
WITH ${SCOPE_CTE},
buckets AS (
  SELECT b AT TIME ZONE 'UTC' AS bstart, (b + ('1 ' || $6::text)::interval) AT TIME ZONE 'UTC' AS bend
    FROM generate_series(date_trunc($6::text, $4::timestamptz AT TIME ZONE 'UTC'), $5::timestamptz AT TIME ZONE 'UTC', ('1 ' || $6::text)::interval) AS b
   WHERE $6::text IS NOT NULL AND b AT TIME ZONE 'UTC' < $5::timestamptz
  UNION ALL
  SELECT $4::timestamptz, $5::timestamptz WHERE $6::text IS NULL),
cov AS (${COVERED_HOURS}),
span AS MATERIALIZED (
  SELECT c.cp, c.f, greatest($4::timestamptz, c.f) AS lo, least($5::timestamptz, c.r) AS hi
    FROM cov c WHERE greatest($4::timestamptz, c.f) < least($5::timestamptz, c.r)),
-- T at the bucket starts strictly inside (lo, hi): the running total of the hour before each.
inner_points AS (
  SELECT s.cp, rh.hour + interval '1 hour' AS p, rh.online_us, rh.charging_us
    FROM span s CROSS JOIN LATERAL (
      SELECT rh.hour, rh.online_us, rh.charging_us FROM rollup_hours rh
       WHERE $6::text = 'hour' AND rh.charge_point_id = s.cp
         AND rh.hour > s.lo - interval '1 hour' AND rh.hour < s.hi - interval '1 hour'
      UNION ALL
      SELECT rh.hour, rh.online_us, rh.charging_us FROM rollup_hours rh
       WHERE $6::text IN ('day', 'week', 'month') AND rh.charge_point_id = s.cp
         AND extract(hour FROM rh.hour AT TIME ZONE 'UTC') = 23
         AND rh.hour > s.lo - interval '1 hour' AND rh.hour < s.hi - interval '1 hour'
         AND ($6::text = 'day'
              OR date_trunc($6::text, (rh.hour + interval '1 hour') AT TIME ZONE 'UTC') = (rh.hour + interval '1 hour') AT TIME ZONE 'UTC')) rh),
-- T at lo and hi: the running total before their hour (none in the first hour), and the part of
-- their hour's set before them when they fall inside it.
edges AS (
  SELECT s.cp, s.f, x.p, date_trunc('hour', x.p, 'UTC') AS h0
    FROM span s CROSS JOIN LATERAL (VALUES (s.lo), (s.hi)) AS x(p)),
edge_points AS (
  SELECT e.cp, e.p,
         coalesce(rt.online_us, 0) + coalesce(dynamo_us(rs.online_mr * tstzmultirange(tstzrange(e.h0, e.p))), 0) AS online_us,
         coalesce(rt.charging_us, 0) + coalesce(dynamo_us(rs.charging_mr * tstzmultirange(tstzrange(e.h0, e.p))), 0) AS charging_us
    FROM edges e
    LEFT JOIN rollup_hours rt ON rt.charge_point_id = e.cp AND rt.hour = e.h0 - interval '1 hour' AND e.h0 > e.f
    LEFT JOIN rollup_hours rs ON rs.charge_point_id = e.cp AND rs.hour = e.h0 AND e.p > e.h0),
points AS (
  SELECT cp, p, online_us, charging_us FROM inner_points
  UNION ALL
  SELECT cp, p, online_us, charging_us FROM edge_points),
rolled AS (
  SELECT cp, CASE WHEN $6::text IS NULL THEN $4::timestamptz ELSE date_trunc($6::text, p AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' END AS k, online_us, charging_us
    FROM (SELECT cp, p, lead(online_us) OVER w - online_us AS online_us, lead(charging_us) OVER w - charging_us AS charging_us
            FROM points WINDOW w AS (PARTITION BY cp ORDER BY p)) d
   WHERE online_us IS NOT NULL),
wins AS (
  SELECT s.charge_point_id AS cp, b.bstart AS k FROM scope s CROSS JOIN buckets b),
direct_from AS (
  SELECT s.charge_point_id, ${directFrom('w', 'c')} AS dlo
    FROM scope s
   CROSS JOIN LATERAL (SELECT $4::timestamptz AS lo) w
    LEFT JOIN cov c ON c.cp = s.charge_point_id),
active AS (
  SELECT d.charge_point_id,
         coalesce(o.mr, '{}') * p.p AS on_mr,
         coalesce(o.mr, '{}') * coalesce(c.mr, '{}') * p.p AS ch_mr
    FROM direct_from d
   CROSS JOIN LATERAL (SELECT tstzmultirange(CASE WHEN d.dlo < $5::timestamptz THEN tstzrange(d.dlo, $5::timestamptz) ELSE 'empty' END) AS p) p
   CROSS JOIN LATERAL (
      SELECT range_agg(tstzrange(k.connected_at, coalesce(k.disconnected_at, now()))) AS mr FROM connections k
       WHERE k.charge_point_id = d.charge_point_id AND d.dlo < $5::timestamptz
         AND k.connected_at < $5 AND coalesce(k.disconnected_at, 'infinity'::timestamptz) > d.dlo) o
   CROSS JOIN LATERAL (
      SELECT range_agg(tstzrange(i.started_at, coalesce(i.ended_at, now()))) AS mr FROM connector_status_intervals i
       WHERE i.charge_point_id = d.charge_point_id AND d.dlo < $5::timestamptz AND i.status = 'Charging'
         AND i.started_at < $5 AND coalesce(i.ended_at, 'infinity'::timestamptz) > d.dlo) c),
${CUT_AT_BUCKETS},
cells AS (
  SELECT charge_point_id, bstart,
         (extract(epoch FROM sum(d) FILTER (WHERE kind = 'on')) * 1000000)::bigint AS online_us,
         (extract(epoch FROM sum(d) FILTER (WHERE kind = 'ch')) * 1000000)::bigint AS charging_us
    FROM cut GROUP BY 1, 2)
SELECT w.cp AS charge_point_id, w.k AS period_start,
       ((coalesce(c.online_us, 0) + coalesce(r.online_us, 0)) / 1e6)::double precision AS online_s,
       ((coalesce(c.charging_us, 0) + coalesce(r.charging_us, 0)) / 1e6)::double precision AS charging_s
  FROM wins w
  LEFT JOIN cells c ON c.charge_point_id = w.cp AND c.bstart = w.k
  LEFT JOIN rolled r ON r.cp = w.cp AND r.k = w.k
 ORDER BY w.cp, w.k`;

type Row = { charge_point_id: string; period_start: Date; online_s: number; charging_s: number };


/** Raw seconds per charger and bucket (for the property test: the rollups must agree to the millisecond, before any rounding, whichever way the rows are read). */
export async function utilisationSeconds(db: Queryable, scope: Scope, from: Date, to: Date, granularity: Granularity | null, direct = false): Promise<Row[]> {
  return db.query<Row>(direct ? DIRECT_SQL : rollupSql, [...scopeParams(scope), from, to, granularity]);
}

export interface ChargerUtilisation {
  charge_point_id: string;
  buckets: UtilisationBucket[];
}

export async function fleetUtilisation(
  db: Queryable,
  scope: Scope,
  from: Date,
  to: Date,
  granularity: Granularity | null,
  /** true: computed from the intervals alone, without the rollups (the definition they must agree with). */
  direct = false,
): Promise<ChargerUtilisation[]> {
  const rows = await utilisationSeconds(db, scope, from, to, granularity, direct);
  const out: ChargerUtilisation[] = [];
  for (const r of rows) {
    let cur = out.at(-1);
    if (cur?.charge_point_id !== r.charge_point_id) out.push((cur = { charge_point_id: r.charge_point_id, buckets: [] }));
    cur.buckets.push({
      period_start: r.period_start,
      utilisation_percent: r.online_s > 0 ? oneDecimal((100 * r.charging_s) / r.online_s) : null,
      charging_minutes: Math.round(r.charging_s / 60),
      online_minutes: Math.round(r.online_s / 60),
    });
  }
  return out;
}

/** How many buckets a request would produce per charger; the API refuses unreasonable requests with it. */
export function bucketCount(from: Date, to: Date, granularity: Granularity): number {
  const span = to.getTime() - from.getTime();
  const size = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 28 * 86_400_000 }[granularity];
  return Math.ceil(span / size) + 1;
}
