import type { Queryable } from '../store/db.js';
import { SCOPE_CTE, oneDecimal, scopeParams, seconds, type Scope } from './scope.js';

export type Granularity = 'hour' | 'day' | 'week' | 'month';

export interface UtilisationBucket {
  period_start: Date;
  utilisation_percent: number | null;
  charging_minutes: number;
  online_minutes: number;
}

/**
 * Per bucket: time a connector was Charging while the charger was online ÷ time
 * online, ×100 (DESIGN.md §3). Buckets align to UTC (ISO weeks from Monday,
 * calendar months); only the part inside [from, to] counts. $4 from, $5 to,
 * $6 granularity ('hour' | 'day' | 'week' | 'month'), or NULL for one bucket over the whole period.
 */
const SQL = `
WITH ${SCOPE_CTE},
buckets AS (
  SELECT b AT TIME ZONE 'UTC' AS bstart,
         tstzrange(greatest(b AT TIME ZONE 'UTC', $4::timestamptz), least((b + ('1 ' || $6::text)::interval) AT TIME ZONE 'UTC', $5::timestamptz)) AS r
    FROM generate_series(date_trunc($6::text, $4::timestamptz AT TIME ZONE 'UTC'), $5::timestamptz AT TIME ZONE 'UTC', ('1 ' || $6::text)::interval) AS b
   WHERE $6::text IS NOT NULL AND b AT TIME ZONE 'UTC' < $5::timestamptz
  UNION ALL
  SELECT $4::timestamptz, tstzrange($4::timestamptz, $5::timestamptz) WHERE $6::text IS NULL),
online AS (
  SELECT k.charge_point_id, range_agg(tstzrange(k.connected_at, coalesce(k.disconnected_at, now()))) AS mr
    FROM connections k JOIN scope USING (charge_point_id)
   WHERE k.connected_at < $5 AND coalesce(k.disconnected_at, 'infinity') > $4
   GROUP BY 1),
charging AS (
  SELECT i.charge_point_id, range_agg(tstzrange(i.started_at, coalesce(i.ended_at, now()))) AS mr
    FROM connector_status_intervals i JOIN scope USING (charge_point_id)
   WHERE i.status = 'Charging' AND i.started_at < $5 AND coalesce(i.ended_at, 'infinity') > $4
   GROUP BY 1),
cells AS (
  SELECT s.charge_point_id, b.bstart, coalesce(o.mr, '{}') * tstzmultirange(b.r) AS on_mr, coalesce(c.mr, '{}') AS ch_mr
    FROM scope s CROSS JOIN buckets b
    LEFT JOIN online o USING (charge_point_id)
    LEFT JOIN charging c USING (charge_point_id))
SELECT charge_point_id, bstart AS period_start, ${seconds('on_mr')} AS online_s, ${seconds('on_mr * ch_mr')} AS charging_s
  FROM cells
 ORDER BY charge_point_id, bstart`;

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
): Promise<ChargerUtilisation[]> {
  const rows = await db.query<{ charge_point_id: string; period_start: Date; online_s: number; charging_s: number }>(SQL, [
    ...scopeParams(scope),
    from,
    to,
    granularity,
  ]);
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
