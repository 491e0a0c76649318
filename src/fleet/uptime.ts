import type { Queryable } from '../store/db.js';
import { inPart, oneDecimal, partNow, partScopeCte, queryInParts, scopeParams, seconds, type PartOptions, type Scope } from './scope.js';
import { DOWN_STATUSES } from './charger-status.js';
import { byPath, directFrom, rollupCtes, widePath, type ReadPath } from './rollup.js';

export interface ChargerUptime {
  charge_point_id: string;
  site_id: string;
  uptime_percent: number | null;
  downtime_minutes: number;
  excluded_downtime_minutes: number;
  window_minutes: number;
}

/** Now: for every part of a split answer the same instant ($8). */
const NOW = partNow('$8');

/**
 * The rows of `table` (alias `t`, end column `ended`, `cond` on the row) that may overlap some
 * charger's w. Two ways, of which one runs (a one-time filter), as the rollup hours are read
 * (rollup.ts): for a large part of the fleet, one range scan of the rows ending after the earliest
 * w starts (migration 0019; after the rollup watermark that is about one row per charger, the open
 * one); for a few chargers, each charger's own rows by its key. The switch at one charger in
 * fifty is that ratio estimated (a month of history holds some dozens of rows per charger against
 * about one recent row), not a measured break-even; both ways give the same answer.
 */
const overlapping = (table: string, t: string, ended: string, cond: string) => `(
    SELECT ${t}.* FROM ${table} ${t}
     WHERE (SELECT wide FROM since) AND ${cond} AND coalesce(${t}.${ended}, 'infinity'::timestamptz) > (SELECT t FROM since)
       AND ${inPart(`${t}.charge_point_id`, '$6', '$7')}
    UNION ALL
    SELECT ${t}.* FROM ${table} ${t}
     WHERE NOT (SELECT wide FROM since) AND ${cond} AND ${t}.charge_point_id IN (SELECT charge_point_id FROM win))`;

/** SQL: microseconds from lo to hi, as dynamo_us counts a range (rollups.sql). */
const usBetween = (lo: string, hi: string) => `(extract(epoch FROM ${hi} - ${lo}) * 1000000)::bigint`;

/** The earliest instant any charger's w starts, and which way the rows after it are read (overlapping). */
const sinceCte = (path: ReadPath) => `since AS (
  SELECT min(lower(w)) AS t,
         ${widePath(path, 'count(*)', 50, 'chargers')} AS wide
    FROM win WHERE NOT isempty(w))`;

/**
 * Per charger of win: each connector's down time (Faulted or Unavailable), the chargers with a
 * connector 1…n down and how many they have, and completed maintenance windows; all overlapping w.
 */
const connectorAndMaintenanceCtes = (path: ReadPath) => `down_by_connector AS (
  SELECT i.charge_point_id, i.connector_id, range_agg(tstzrange(i.started_at, coalesce(i.ended_at, 'infinity'))) AS mr
    FROM ${overlapping('connector_status_intervals', 'i', 'ended_at', `i.status IN ${DOWN_STATUSES}`)} i JOIN win USING (charge_point_id)
   WHERE NOT isempty(win.w) AND coalesce(i.ended_at, 'infinity'::timestamptz) > lower(win.w) AND i.started_at < upper(win.w)
   GROUP BY 1, 2),
known_connectors AS (
  -- Counted only where some connector 1…n was down: elsewhere "every connector down" cannot hold.
  SELECT x.charge_point_id, count(*) AS n FROM connectors x
   WHERE x.connector_id > 0 AND x.charge_point_id IN (SELECT charge_point_id FROM down_by_connector WHERE connector_id > 0)
   GROUP BY 1),
all_down AS (
  SELECT d.charge_point_id, range_intersect_agg(d.mr) AS mr, count(*) AS n
    FROM down_by_connector d WHERE d.connector_id > 0 GROUP BY 1),
maintenance AS (
  SELECT m.charge_point_id, range_agg(tstzrange(m.scheduled_at, m.completed_at)) AS mr
    FROM maintenance_events m JOIN win USING (charge_point_id)
   WHERE NOT isempty(win.w) AND m.completed_at IS NOT NULL AND m.completed_at > m.scheduled_at
     AND m.scheduled_at < upper(win.w) AND m.completed_at > lower(win.w)
   GROUP BY 1)`;

/** The joins of `down` (below): win and what each charger has of the CTEs above. */
const DOWN_JOINS = `
    LEFT JOIN down_by_connector c0 ON c0.charge_point_id = w.charge_point_id AND c0.connector_id = 0
    LEFT JOIN all_down a ON a.charge_point_id = w.charge_point_id
    LEFT JOIN known_connectors kc ON kc.charge_point_id = w.charge_point_id
    LEFT JOIN maintenance mt ON mt.charge_point_id = w.charge_point_id`;

/**
 * Down time and excluded down time per charger of `win(charge_point_id, site_id, w, …)`, w the
 * part of its window to compute from the intervals (empty: nothing to compute). Only intervals
 * that overlap w are read; everything is clipped to w. The definition, in multiranges throughout.
 */
const downCtes = (path: ReadPath) => `${sinceCte(path)},
online AS (
  SELECT k.charge_point_id, range_agg(tstzrange(k.connected_at, coalesce(k.disconnected_at, ${NOW}))) AS mr
    FROM ${overlapping('connections', 'k', 'disconnected_at', 'true')} k JOIN win USING (charge_point_id)
   WHERE NOT isempty(win.w) AND coalesce(k.disconnected_at, 'infinity'::timestamptz) > lower(win.w) AND k.connected_at < upper(win.w)
   GROUP BY 1),
${connectorAndMaintenanceCtes(path)},
down AS (
  SELECT w.*,
         -- Offline time is inside w already; only the connectors' down time needs clipping to it
         -- (and most chargers have none in w).
         CASE WHEN c0.mr IS NULL AND a.mr IS NULL THEN tstzmultirange(w.w) - coalesce(o.mr, '{}')
              ELSE ((tstzmultirange(w.w) - coalesce(o.mr, '{}'))
                    + coalesce(c0.mr, '{}')
                    + CASE WHEN a.n = kc.n THEN a.mr ELSE '{}'::tstzmultirange END) * tstzmultirange(w.w) END AS mr,
         coalesce(mt.mr, '{}') AS maint
    FROM win w
    LEFT JOIN online o USING (charge_point_id)${DOWN_JOINS})`;

/**
 * The same, for the short part after the rollup watermark (about an hour), where nearly every
 * charger has one connection, open, no connector down and no maintenance: its down time is then
 * w less that connection, plain arithmetic. Only the others (several connections, a connector
 * down, maintenance) take the multiranges above; a range_agg and a multirange difference for each
 * of 10,000 chargers took about 30 ms of the tail's 45 (docs/benchmarks.md). down adds
 * simple, and simple_us (its down time in µs when simple; mr is then NULL).
 */
const tailDownCtes = (path: ReadPath) => `${sinceCte(path)},
conn AS MATERIALIZED (
  SELECT k.charge_point_id, greatest(k.connected_at, lower(win.w)) AS lo, least(coalesce(k.disconnected_at, ${NOW}), upper(win.w)) AS hi
    FROM ${overlapping('connections', 'k', 'disconnected_at', 'true')} k JOIN win USING (charge_point_id)
   WHERE NOT isempty(win.w) AND coalesce(k.disconnected_at, 'infinity'::timestamptz) > lower(win.w) AND k.connected_at < upper(win.w)),
one_conn AS (
  SELECT charge_point_id, count(*) AS n, min(lo) AS lo, max(hi) AS hi FROM conn GROUP BY 1),
online AS (
  -- Connections may overlap (a reconnect before the old socket's close was seen): several are
  -- merged, never summed.
  SELECT c.charge_point_id, range_agg(tstzrange(c.lo, c.hi)) AS mr
    FROM conn c WHERE c.charge_point_id IN (SELECT charge_point_id FROM one_conn WHERE n > 1)
   GROUP BY 1),
${connectorAndMaintenanceCtes(path)},
down AS (
  SELECT w.*, x.simple,
         CASE WHEN isempty(w.w) THEN 0
              ELSE ${usBetween('lower(w.w)', 'upper(w.w)')} - CASE WHEN n.lo < n.hi THEN ${usBetween('n.lo', 'n.hi')} ELSE 0 END END AS simple_us,
         CASE WHEN x.simple THEN NULL
              ELSE ((tstzmultirange(w.w) - coalesce(o.mr, CASE WHEN n.n = 1 THEN tstzmultirange(tstzrange(n.lo, n.hi)) END, '{}'))
                    + coalesce(c0.mr, '{}')
                    + CASE WHEN a.n = kc.n THEN a.mr ELSE '{}'::tstzmultirange END) * tstzmultirange(w.w) END AS mr,
         coalesce(mt.mr, '{}') AS maint
    FROM win w
    LEFT JOIN one_conn n USING (charge_point_id)
    LEFT JOIN online o USING (charge_point_id)${DOWN_JOINS}
   CROSS JOIN LATERAL (SELECT coalesce(n.n, 0) <= 1 AND c0.mr IS NULL AND a.mr IS NULL AND mt.mr IS NULL AS simple) x)`;

/**
 * Down (charger-status.ts, docs/metrics.md): offline, or connector 0 Faulted or
 * Unavailable, or every known connector 1…n Faulted or Unavailable, within
 * [from, to] ∩ [registered_at, now]. Computed with multiranges:
 *   down = (window − online) ∪ connector0_down ∪ ⋂ connector_down, clipped to the window.
 * Excluded downtime = down ∩ completed maintenance windows [scheduled_at, completed_at].
 * Parameters: $1–$3 scope, $4 from, $5 to, $6–$7 the part of the scope and $8 its now (scopeParts).
 */
const directSql = (path: ReadPath) => `
WITH ${partScopeCte('$6', '$7')},
win AS (
  SELECT s.charge_point_id, s.site_id,
         CASE WHEN greatest($4::timestamptz, s.registered_at) < least($5::timestamptz, ${NOW})
              THEN tstzrange(greatest($4::timestamptz, s.registered_at), least($5::timestamptz, ${NOW}))
              ELSE 'empty'::tstzrange END AS w
    FROM scope s),
${downCtes(path)}
SELECT charge_point_id, site_id,
       ${seconds('tstzmultirange(w)')} AS window_s,
       ${seconds('mr')} AS down_s,
       ${seconds('mr * maint')} AS excluded_s
  FROM down
 ORDER BY charge_point_id`;

/**
 * The same figures from the hourly rollups (rollup.ts) where they cover the window, and computed as
 * above for the rest of it (the hours after the rollup watermark, or all of it without rollups);
 * the intervals read for that part are only those ending after it starts.
 */
const rollupSql = (path: ReadPath) => `
WITH ${partScopeCte('$6', '$7')},
wins AS (
  SELECT s.charge_point_id AS cp, s.site_id, greatest($4::timestamptz, s.registered_at) AS lo, least($5::timestamptz, ${NOW}) AS hi
    FROM scope s),
${rollupCtes(path, ['down', 'excluded'], { lo: '$6', hi: '$7' })},
win AS (
  SELECT s.cp AS charge_point_id, s.site_id, s.lo, s.hi,
         CASE WHEN ${directFrom('s.lo', 's')} < s.hi THEN tstzrange(${directFrom('s.lo', 's')}, s.hi) ELSE 'empty'::tstzrange END AS w
    FROM spans s),
${tailDownCtes(path)}
SELECT d.charge_point_id, d.site_id,
       CASE WHEN d.lo < d.hi THEN extract(epoch FROM d.hi - d.lo) ELSE 0 END::double precision AS window_s,
       ((coalesce(r.down_us, 0) + CASE WHEN d.simple THEN d.simple_us ELSE dynamo_us(d.mr) END) / 1e6)::double precision AS down_s,
       ((coalesce(r.excluded_us, 0) + CASE WHEN d.simple THEN 0 ELSE dynamo_us(d.mr * d.maint) END) / 1e6)::double precision AS excluded_s
  FROM down d LEFT JOIN rolled r ON r.cp = d.charge_point_id
 ORDER BY d.charge_point_id`;

type Row = { charge_point_id: string; site_id: string; window_s: number; down_s: number; excluded_s: number };

const SQL = byPath(rollupSql);
const DIRECT_SQL = byPath(directSql);

/**
 * Chargers a part must have before a scope is split (scopeParts): below it one statement costs less
 * than two (docs/benchmarks.md, "Uptime of a large fleet in parts").
 */
const MIN_PER_PART = 1000;

export interface UptimeOptions extends PartOptions {
  /** From the intervals alone, not the rollups: the definition the rollups must agree with. */
  direct?: boolean;
  path?: ReadPath;
}

/** Uptime per charger of the scope over [from, to] (docs/metrics.md), from the rollups where they cover it. */
export async function fleetUptime(db: Queryable, scope: Scope, from: Date, to: Date, opts: PartOptions = {}): Promise<ChargerUptime[]> {
  return (await uptimeSeconds(db, scope, from, to, opts)).map(toUptime);
}

/** The same, computed from the intervals alone: the definition the rollups must agree with (the property test, the API bench floor). */
export async function fleetUptimeDirect(db: Queryable, scope: Scope, from: Date, to: Date): Promise<ChargerUptime[]> {
  return (await uptimeSeconds(db, scope, from, to, { direct: true })).map(toUptime);
}

/**
 * Raw seconds per charger, ordered by id (for the property test: the rollups must agree to the
 * millisecond, before any rounding, whichever way the rows are read and however the scope is split).
 */
export async function uptimeSeconds(db: Queryable, scope: Scope, from: Date, to: Date, opts: UptimeOptions = {}): Promise<Row[]> {
  const sql = (opts.direct ? DIRECT_SQL : SQL)[opts.path ?? 'auto'];
  return queryInParts(db, scope, opts, MIN_PER_PART, (part) => db.query<Row>(sql, [...scopeParams(scope), from, to, ...part]));
}

function toUptime(r: Row): ChargerUptime {
  return {
    charge_point_id: r.charge_point_id,
    site_id: r.site_id,
    uptime_percent: r.window_s > 0 ? oneDecimal(100 * (1 - r.down_s / r.window_s)) : null,
    downtime_minutes: Math.round(r.down_s / 60),
    excluded_downtime_minutes: Math.round(r.excluded_s / 60),
    window_minutes: Math.round(r.window_s / 60),
  };
}
