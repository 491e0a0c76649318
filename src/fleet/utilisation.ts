import type { Queryable } from '../store/db.js';
import { SCOPE_CTE, oneDecimal, partNow, partScopeCte, queryInParts, scopeParams, type PartOptions, type Scope } from './scope.js';
import { COVERED_HOURS, directFrom } from './rollup.js';

export type Granularity = 'hour' | 'day' | 'week' | 'month';

export interface UtilisationBucket {
  period_start: Date;
  utilisation_percent: number | null;
  charging_minutes: number;
  online_minutes: number;
}

/**
 * For the charger `cp`, as two LATERAL joins: o.mr, its connections, and ch.mr, its Charging
 * intervals, that overlap [`from`, $5) (open ones up to now). Both are found by their end
 * (indexes of migrations 0012 and 0020), so only those ending after `from` are read.
 */
const onlineAndCharging = (cp: string, from: string, now = 'now()') => `
 CROSS JOIN LATERAL (
    SELECT range_agg(tstzrange(k.connected_at, coalesce(k.disconnected_at, ${now}))) AS mr FROM connections k
     WHERE k.charge_point_id = ${cp} AND ${from} < $5::timestamptz
       AND k.connected_at < $5 AND coalesce(k.disconnected_at, 'infinity'::timestamptz) > ${from}) o
 CROSS JOIN LATERAL (
    SELECT range_agg(tstzrange(i.started_at, coalesce(i.ended_at, ${now}))) AS mr FROM connector_status_intervals i
     WHERE i.charge_point_id = ${cp} AND ${from} < $5::timestamptz AND i.status = 'Charging'
       AND i.started_at < $5 AND coalesce(i.ended_at, 'infinity'::timestamptz) > ${from}) ch`;

/** The buckets (bstart, r: its range) that a range crosses; $4 from, $5 to, $6 granularity (NULL: one bucket, the period). */
const bucketsCrossing = (range: string) => `
      SELECT $4::timestamptz AS bstart, tstzrange($4::timestamptz, $5::timestamptz) AS r WHERE $6::text IS NULL
      UNION ALL
      SELECT g AT TIME ZONE 'UTC', tstzrange(g AT TIME ZONE 'UTC', (g + ('1 ' || $6::text)::interval) AT TIME ZONE 'UTC')
        FROM generate_series(date_trunc($6::text, lower(${range}) AT TIME ZONE 'UTC'), (upper(${range}) AT TIME ZONE 'UTC') - interval '1 microsecond', ('1 ' || $6::text)::interval) AS g
       WHERE $6::text IS NOT NULL`;

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
${bucketsCrossing('p.x')}) bk)`;

/**
 * The bucket starts of a period, in order (`from`, `to`, granularity or NULL for one bucket over
 * the whole period, given as SQL expressions): the one definition of the buckets.
 */
const bucketStarts = (from: string, to: string, g: string) => `
  SELECT b AT TIME ZONE 'UTC' AS bstart
    FROM generate_series(date_trunc(${g}, ${from} AT TIME ZONE 'UTC'), ${to} AT TIME ZONE 'UTC', ('1 ' || ${g})::interval) AS b
   WHERE ${g} IS NOT NULL AND b AT TIME ZONE 'UTC' < ${to}
  UNION ALL
  SELECT ${from} WHERE ${g} IS NULL`;

/**
 * Per bucket: time a connector was Charging while the charger was online ÷ time
 * online, ×100 (DESIGN.md §3). Buckets align to UTC (ISO weeks from Monday,
 * calendar months); only the part inside [from, to] counts. $4 from, $5 to,
 * $6 granularity ('hour' | 'day' | 'week' | 'month'), or NULL for one bucket over the whole period.
 */
const DIRECT_SQL = `
WITH ${SCOPE_CTE},
period AS (SELECT tstzmultirange(tstzrange($4::timestamptz, $5::timestamptz)) AS p),
buckets AS (${bucketStarts('$4::timestamptz', '$5::timestamptz', '$6::text')}),
-- Per charger (LATERAL, so each walks its own index entries): online time, and
-- Charging time while online, both clipped to the period. One multirange
-- operation per charger, not per bucket.
active AS (
  SELECT s.charge_point_id,
         coalesce(o.mr, '{}') * period.p AS on_mr,
         coalesce(o.mr, '{}') * coalesce(ch.mr, '{}') * period.p AS ch_mr
    FROM scope s CROSS JOIN period
${onlineAndCharging('s.charge_point_id', '$4::timestamptz')}),
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

const BUCKET_STARTS_SQL = `
SELECT string_agg((extract(epoch FROM bstart) * 1000)::bigint::text, ',' ORDER BY bstart) AS starts
  FROM (${bucketStarts('$1::timestamptz', '$2::timestamptz', '$3::text')}) b`;

/**
 * The same figures from the hourly rollups (rollup.ts, docs/metrics.md "Rollups") for the part of
 * the period they cover, plus the direct computation for the rest (after the rollup watermark, or
 * all of it without rollups), which reads only the intervals ending after that part starts.
 *
 * In the covered span [lo, hi) of a charger every bucket is T(end) − T(start), T(p) the running
 * total at instant p. So each charger's span is cut at its points — lo, every bucket start inside,
 * hi — and this statement returns, per charger, T at each point (one stored row per bucket
 * boundary, not three rows per bucket), and the direct part already cut at the buckets;
 * `assemble` takes the differences. Every bucket start is a whole UTC hour, and for day, week and
 * month the last hour before it is 23:00 UTC, whose rows a partial index holds (migration 0020): a
 * charger's boundaries are one short range scan of it, not a probe each. Only lo and hi may fall
 * inside an hour (`from` and `to`): T there adds that hour's stored set, clipped.
 *
 * One row per charger, charger by charger (LATERAL): a fleet's buckets are never sorted or joined
 * as one large set of rows (sorting 31,000 rows by charger id cost more here than reading the
 * rollups). Totals are integer microseconds, exact as JavaScript numbers below 2^53 (285 years).
 */
const ROLLUP_SQL = `
WITH ${partScopeCte('$7', '$8')},
cov AS (${COVERED_HOURS}),
-- The hour before each bucket start (whose running total is T at that start).
boundaries AS (
  SELECT array_agg(b.bstart - interval '1 hour') AS hs FROM (${bucketStarts('$4::timestamptz', '$5::timestamptz', '$6::text')}) b)
SELECT s.charge_point_id, pt.ps, pt.ons, pt.chs, tl.ks, tl.ons AS tail_ons, tl.chs AS tail_chs
  FROM scope s
  LEFT JOIN cov c ON c.cp = s.charge_point_id
 CROSS JOIN LATERAL (
    SELECT greatest($4::timestamptz, c.f) AS lo, least($5::timestamptz, c.r) AS hi,
           ${directFrom('$4::timestamptz', 'c')} AS dlo) sp
 -- Covered: T at every point of [lo, hi).
 CROSS JOIN LATERAL (
    -- In no particular order (assemble sorts them: three ordered aggregates cost three sorts per
    -- charger), as comma-separated integers (cheaper to send and read than arrays).
    SELECT string_agg((extract(epoch FROM q.p) * 1000)::bigint::text, ',') AS ps,
           string_agg(q.online_us::text, ',') AS ons,
           string_agg(q.charging_us::text, ',') AS chs
      FROM (
        -- At the bucket starts strictly inside (lo, hi): the running total of the hour before each.
        SELECT rh.hour + interval '1 hour' AS p, rh.online_us, rh.charging_us FROM rollup_hours rh
         WHERE $6::text = 'hour' AND sp.lo < sp.hi AND rh.charge_point_id = s.charge_point_id
           AND rh.hour > sp.lo - interval '1 hour' AND rh.hour < sp.hi - interval '1 hour'
        UNION ALL
        SELECT rh.hour + interval '1 hour', rh.online_us, rh.charging_us FROM rollup_hours rh
         WHERE $6::text = 'day' AND sp.lo < sp.hi AND rh.charge_point_id = s.charge_point_id
           AND extract(hour FROM rh.hour AT TIME ZONE 'UTC') = 23
           AND rh.hour > sp.lo - interval '1 hour' AND rh.hour < sp.hi - interval '1 hour'
        UNION ALL
        -- Weeks and months: a few boundaries among many day ends, so each is looked up in that index.
        SELECT rh.hour + interval '1 hour', rh.online_us, rh.charging_us FROM rollup_hours rh
         WHERE $6::text IN ('week', 'month') AND sp.lo < sp.hi AND rh.charge_point_id = s.charge_point_id
           AND extract(hour FROM rh.hour AT TIME ZONE 'UTC') = 23
           AND rh.hour = ANY ((SELECT hs FROM boundaries)::timestamptz[])
           AND rh.hour > sp.lo - interval '1 hour' AND rh.hour < sp.hi - interval '1 hour'
        UNION ALL
        -- At lo and hi, one stored row each: on a whole hour, the running total of the hour before
        -- (none in the charger's first hour); inside an hour, that hour's total less the part of its
        -- set after the point.
        SELECT e.p,
               coalesce(r.online_us, 0) - CASE WHEN e.p > e.h0 THEN coalesce(dynamo_us(r.online_mr * tstzmultirange(tstzrange(e.p, e.h0 + interval '1 hour'))), 0) ELSE 0 END,
               coalesce(r.charging_us, 0) - CASE WHEN e.p > e.h0 THEN coalesce(dynamo_us(r.charging_mr * tstzmultirange(tstzrange(e.p, e.h0 + interval '1 hour'))), 0) ELSE 0 END
          FROM (SELECT v.p, date_trunc('hour', v.p, 'UTC') AS h0 FROM (VALUES (sp.lo), (sp.hi)) AS v(p) WHERE sp.lo < sp.hi) e
          LEFT JOIN rollup_hours r ON r.charge_point_id = s.charge_point_id
                AND r.hour = CASE WHEN e.p > e.h0 THEN e.h0 ELSE e.h0 - interval '1 hour' END AND (e.p > e.h0 OR e.h0 > c.f)) q) pt
 -- Direct, [dlo, to): online, and Charging while online, from the intervals ending after dlo, cut at
 -- the buckets they cross.
 CROSS JOIN LATERAL (SELECT tstzmultirange(CASE WHEN sp.dlo < $5::timestamptz THEN tstzrange(sp.dlo, $5::timestamptz) ELSE 'empty' END) AS p) dp
${onlineAndCharging('s.charge_point_id', 'sp.dlo', partNow('$9'))}
 CROSS JOIN LATERAL (
    SELECT string_agg((extract(epoch FROM z.k) * 1000)::bigint::text, ',') AS ks, string_agg(z.online_us::text, ',') AS ons, string_agg(z.charging_us::text, ',') AS chs
      FROM (
        SELECT bk.bstart AS k,
               coalesce((extract(epoch FROM sum(bk.d) FILTER (WHERE pc.online)) * 1000000)::bigint, 0) AS online_us,
               coalesce((extract(epoch FROM sum(bk.d) FILTER (WHERE NOT pc.online)) * 1000000)::bigint, 0) AS charging_us
          FROM (SELECT true AS online, u.x FROM unnest(coalesce(o.mr, '{}') * dp.p) AS u(x)
                UNION ALL
                SELECT false, u.x FROM unnest(coalesce(o.mr, '{}') * coalesce(ch.mr, '{}') * dp.p) AS u(x)) pc
         CROSS JOIN LATERAL (
           SELECT z.bstart, upper(pc.x * z.r) - lower(pc.x * z.r) AS d
             FROM (
${bucketsCrossing('pc.x')}) z) bk
         GROUP BY bk.bstart) z) tl
 ORDER BY s.charge_point_id`;

/** Comma-separated integers (instants in ms since the epoch, durations in µs), NULL for none. */
type Numbers = string | null;
type ChargerRow = { charge_point_id: string; ps: Numbers; ons: Numbers; chs: Numbers; ks: Numbers; tail_ons: Numbers; tail_chs: Numbers };
/** Reads a Numbers list (a third of the time of split and Number on a fleet's answer). */
function numbers(s: Numbers): number[] {
  const out: number[] = [];
  if (s === null) return out;
  let n = 0;
  let sign = 1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 44 /* , */) {
      out.push(sign * n);
      n = 0;
      sign = 1;
    } else if (c === 45 /* - */) sign = -1;
    else n = n * 10 + (c - 48);
  }
  out.push(sign * n);
  return out;
}

/**
 * A fleet's figures per charger and bucket as columns, in seconds: the cell of charger c and bucket
 * b is at c × starts.length + b. Two arrays rather than an object per bucket: a site's daily month
 * is 31,000 buckets, and objects that live until the answer is written are most of what the
 * collector works on (docs/benchmarks.md, "Large answers written as bytes").
 */
export interface UtilisationGrid {
  starts: Date[];
  chargers: string[];
  onlineS: Float64Array;
  chargingS: Float64Array;
}

/**
 * The grid from ROLLUP_SQL's rows: the difference of T between neighbouring points goes to the
 * bucket the first of them falls in, the direct part to its bucket.
 */
function assemble(rows: ChargerRow[], startsMs: number[]): UtilisationGrid {
  const index = new Map(startsMs.map((t, i) => [t, i]));
  const bucketOf = (t: number) => {
    let lo = 0;
    let hi = startsMs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (startsMs[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const n = startsMs.length;
  const online = new Float64Array(rows.length * n);
  const charging = new Float64Array(rows.length * n);
  rows.forEach((c, ci) => {
    const base = ci * n;
    const [ps, ons, chs] = [numbers(c.ps), numbers(c.ons), numbers(c.chs)];
    const order = ps.map((_, i) => i).sort((x, y) => ps[x]! - ps[y]!);
    for (let j = 0; j + 1 < order.length; j++) {
      const [i, next] = [order[j]!, order[j + 1]!];
      const b = base + bucketOf(ps[i]!);
      online[b]! += ons[next]! - ons[i]!;
      charging[b]! += chs[next]! - chs[i]!;
    }
    const [ks, tailOns, tailChs] = [numbers(c.ks), numbers(c.tail_ons), numbers(c.tail_chs)];
    ks.forEach((k, j) => {
      const b = base + index.get(k)!;
      online[b]! += tailOns[j]!;
      charging[b]! += tailChs[j]!;
    });
  });
  // Microseconds to seconds once the sums are made (exact until then).
  for (let i = 0; i < online.length; i++) {
    online[i] = online[i]! / 1e6;
    charging[i] = charging[i]! / 1e6;
  }
  // No bucket (a period shorter than its first bucket start), no charger: as the answer has always been.
  return { starts: startsMs.map((t) => new Date(t)), chargers: n ? rows.map((c) => c.charge_point_id) : [], onlineS: online, chargingS: charging };
}

type Row = { charge_point_id: string; period_start: Date; online_s: number; charging_s: number };

export interface UtilisationOptions extends PartOptions {
  /** From the intervals alone, without the rollups: the definition they must agree with. */
  direct?: boolean;
}

/**
 * Chargers a part must have. Each charger is computed on its own (LATERAL), with no fleet-wide read
 * to repeat per part, so parts can be smaller than uptime's; the figure is a choice, not a measured
 * break-even (docs/benchmarks.md, "Uptime of a large fleet in parts").
 */
const MIN_PER_PART = 250;

/**
 * Online and charging seconds per charger and bucket, from the rollups (or, `direct`, from the
 * intervals alone: the definition the rollups must agree with).
 */
export async function utilisationGrid(db: Queryable, scope: Scope, from: Date, to: Date, granularity: Granularity | null, opts: UtilisationOptions = {}): Promise<UtilisationGrid> {
  if (opts.direct) return gridOf(await db.query<Row>(DIRECT_SQL, [...scopeParams(scope), from, to, granularity]));
  const [rows, [buckets]] = await Promise.all([
    queryInParts(db, scope, opts, MIN_PER_PART, (part) => db.query<ChargerRow>(ROLLUP_SQL, [...scopeParams(scope), from, to, granularity, ...part])),
    db.query<{ starts: Numbers }>(BUCKET_STARTS_SQL, [from, to, granularity]),
  ]);
  return assemble(rows, numbers(buckets?.starts ?? null));
}

/** DIRECT_SQL's rows (every charger of the scope × every bucket, in order) as a grid. */
function gridOf(rows: Row[]): UtilisationGrid {
  const chargers = [...new Set(rows.map((r) => r.charge_point_id))];
  const n = chargers.length && rows.length / chargers.length;
  if (!Number.isInteger(n)) throw new Error(`utilisation: ${rows.length} rows are not ${chargers.length} chargers × the same buckets`);
  return {
    starts: rows.slice(0, n).map((r) => r.period_start),
    chargers,
    onlineS: Float64Array.from(rows, (r) => r.online_s),
    chargingS: Float64Array.from(rows, (r) => r.charging_s),
  };
}

/** Raw seconds per charger and bucket (for the property test: the rollups must agree to the millisecond, before any rounding). */
export async function utilisationSeconds(db: Queryable, scope: Scope, from: Date, to: Date, granularity: Granularity | null, opts: UtilisationOptions = {}): Promise<Row[]> {
  const g = await utilisationGrid(db, scope, from, to, granularity, opts);
  const n = g.starts.length;
  return Array.from(g.onlineS, (onlineS, i) => ({ charge_point_id: g.chargers[Math.floor(i / n)]!, period_start: g.starts[i % n]!, online_s: onlineS, charging_s: g.chargingS[i]! }));
}

export interface ChargerUtilisation {
  charge_point_id: string;
  buckets: UtilisationBucket[];
}

/** A bucket's utilisation as the API reports it (DESIGN.md §3): one decimal, null when never online. */
export const utilisationPercent = (onlineS: number, chargingS: number): number | null => (onlineS > 0 ? oneDecimal((100 * chargingS) / onlineS) : null);

/** Seconds as the API's whole minutes. */
export const wholeMinutes = (s: number): number => Math.round(s / 60);

const utilisationBucket = (periodStart: Date, onlineS: number, chargingS: number): UtilisationBucket => ({
  period_start: periodStart,
  utilisation_percent: utilisationPercent(onlineS, chargingS),
  charging_minutes: wholeMinutes(chargingS),
  online_minutes: wholeMinutes(onlineS),
});

export async function fleetUtilisation(
  db: Queryable,
  scope: Scope,
  from: Date,
  to: Date,
  granularity: Granularity | null,
  opts: UtilisationOptions = {},
): Promise<ChargerUtilisation[]> {
  const g = await utilisationGrid(db, scope, from, to, granularity, opts);
  const n = g.starts.length;
  return g.chargers.map((cp, c) => ({ charge_point_id: cp, buckets: g.starts.map((s, b) => utilisationBucket(s, g.onlineS[c * n + b]!, g.chargingS[c * n + b]!)) }));
}

/** How many buckets a request would produce per charger; the API refuses unreasonable requests with it. */
export function bucketCount(from: Date, to: Date, granularity: Granularity): number {
  const span = to.getTime() - from.getTime();
  const size = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 28 * 86_400_000 }[granularity];
  return Math.ceil(span / size) + 1;
}
