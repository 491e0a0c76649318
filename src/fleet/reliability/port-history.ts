import type { Queryable } from '../../store/db.js';
import { SCOPE_CTE, scopeParams, type Scope } from '../scope.js';
import { DOWN_STATUSES } from '../charger-status.js';
import type { Exclusion, Outage, OutageCause, OutageSpan, Port } from './calculators.js';
import type { ExclusionChoice } from './regimes.js';

const ms = (x: string) => `(extract(epoch FROM ${x}) * 1000)::double precision`;
/** As ms, in floating point throughout: several times cheaper than extract's numeric, equal for whole milliseconds. */
const fastMs = (x: string) => `(date_part('epoch', ${x}) * 1000)`;

/**
 * Every port (connector 1…n; in OCPP 2.x the EVSE) of a page of chargers, with its outages that
 * overlap [$4, $5). A port is down when its charger is offline, connector 0 is Faulted or
 * Unavailable, or the port itself is (docs/compliance.md). Each outage has one cause, the first
 * that applies in this order: charger_offline, charger_faulted, charger_unavailable, port_faulted,
 * port_unavailable; where the cause changes a new outage begins.
 *
 * Outages are reported whole, not clipped to the period: the history read is widened per charger
 * to [lo, hi), from the start of whatever down interval or offline gap covers $4 to the end of
 * whatever covers $5 (or now), so an outage has the same start whichever period it is seen
 * through — its start is the key its exclusion is stored under.
 *
 * HISTORY reads a page of chargers as multiranges: per charger (`charger`) its offline time (off),
 * connector 0 Faulted (c0f) and Unavailable (c0u), and its scheduled maintenance windows; per port
 * (`ports`) its own Faulted (pf) and Unavailable (pu) time and when it was first seen (born). The
 * outage records (DETAILED_SQL) and the calculators' read (LEAN_SQL) are cut from it.
 *
 * Parameters: $1–$3 scope, $4 from, $5 to, $6 charge_point_id after which the page starts (keyset),
 * $7 chargers per page.
 */
const HISTORY = `
WITH ${SCOPE_CTE},
page AS (
  SELECT s.* FROM scope s WHERE ($6::text IS NULL OR s.charge_point_id > $6) ORDER BY s.charge_point_id LIMIT $7),
-- Materialised: lo and hi are each read twice below, and each is six index probes.
bounds AS MATERIALIZED (
  SELECT p.charge_point_id, p.site_id, p.registered_at,
    greatest(p.registered_at, least($4::timestamptz,
      (SELECT min(i.started_at) FROM connector_status_intervals i
        WHERE i.charge_point_id = p.charge_point_id AND i.status IN ${DOWN_STATUSES} AND i.started_at < $4 AND coalesce(i.ended_at, 'infinity') > $4),
      CASE WHEN NOT EXISTS (SELECT 1 FROM connections k WHERE k.charge_point_id = p.charge_point_id AND k.connected_at <= $4 AND coalesce(k.disconnected_at, 'infinity') > $4)
           THEN (SELECT max(k.disconnected_at) FROM connections k WHERE k.charge_point_id = p.charge_point_id AND k.disconnected_at <= $4) END)) AS lo,
    least(now(), greatest($5::timestamptz,
      (SELECT max(coalesce(i.ended_at, 'infinity')) FROM connector_status_intervals i
        WHERE i.charge_point_id = p.charge_point_id AND i.status IN ${DOWN_STATUSES} AND i.started_at < $5 AND coalesce(i.ended_at, 'infinity') > $5),
      CASE WHEN NOT EXISTS (SELECT 1 FROM connections k WHERE k.charge_point_id = p.charge_point_id AND k.connected_at <= $5 AND coalesce(k.disconnected_at, 'infinity') > $5)
           THEN coalesce((SELECT min(k.connected_at) FROM connections k WHERE k.charge_point_id = p.charge_point_id AND k.connected_at > $5), 'infinity') END)) AS hi
    FROM page p),
ext AS (
  SELECT b.*, CASE WHEN b.lo < b.hi THEN tstzmultirange(tstzrange(b.lo, b.hi)) ELSE '{}'::tstzmultirange END AS e FROM bounds b),
online AS (
  SELECT x.charge_point_id, range_agg(tstzrange(k.connected_at, coalesce(k.disconnected_at, now()))) AS mr
    FROM ext x JOIN connections k ON k.charge_point_id = x.charge_point_id
   WHERE k.connected_at < x.hi AND coalesce(k.disconnected_at, 'infinity') > x.lo
   GROUP BY 1),
st AS (
  SELECT x.charge_point_id, i.connector_id, i.status, range_agg(tstzrange(i.started_at, coalesce(i.ended_at, 'infinity'))) AS mr
    FROM ext x JOIN connector_status_intervals i ON i.charge_point_id = x.charge_point_id
   WHERE i.status IN ${DOWN_STATUSES} AND i.started_at < x.hi AND coalesce(i.ended_at, 'infinity') > x.lo
   GROUP BY 1, 2, 3),
maint AS (
  SELECT x.charge_point_id, range_agg(tstzrange(m.scheduled_at, m.completed_at)) AS mr
    FROM ext x JOIN maintenance_events m ON m.charge_point_id = x.charge_point_id
   WHERE m.type IN ('scheduled', 'inspection') AND m.completed_at > m.scheduled_at AND m.scheduled_at < x.hi AND m.completed_at > x.lo
   GROUP BY 1),
charger AS (
  SELECT x.charge_point_id, x.site_id, x.registered_at, x.hi, x.e,
         (x.e - coalesce(o.mr, '{}')) AS off,
         coalesce(f0.mr, '{}') * x.e AS c0f, coalesce(u0.mr, '{}') * x.e AS c0u, coalesce(mt.mr, '{}') AS maint
    FROM ext x
    LEFT JOIN online o ON o.charge_point_id = x.charge_point_id
    LEFT JOIN st f0 ON f0.charge_point_id = x.charge_point_id AND f0.connector_id = 0 AND f0.status = 'Faulted'
    LEFT JOIN st u0 ON u0.charge_point_id = x.charge_point_id AND u0.connector_id = 0 AND u0.status = 'Unavailable'
    LEFT JOIN maint mt ON mt.charge_point_id = x.charge_point_id),
ports AS (
  SELECT c.*, x.connector_id,
         greatest(c.registered_at, coalesce(
           (SELECT min(i.started_at) FROM connector_status_intervals i WHERE i.charge_point_id = x.charge_point_id AND i.connector_id = x.connector_id),
           x.status_at)) AS born,
         coalesce(pf.mr, '{}') * c.e AS pf, coalesce(pu.mr, '{}') * c.e AS pu
    FROM charger c
    JOIN connectors x ON x.charge_point_id = c.charge_point_id AND x.connector_id > 0
    LEFT JOIN st pf ON pf.charge_point_id = x.charge_point_id AND pf.connector_id = x.connector_id AND pf.status = 'Faulted'
    LEFT JOIN st pu ON pu.charge_point_id = x.charge_point_id AND pu.connector_id = x.connector_id AND pu.status = 'Unavailable')`;

/** One row per outage: (charge_point_id, connector_id, maint, cause, r). */
const SEGMENTS = `
segments AS (
  SELECT p.charge_point_id, p.connector_id, p.maint, s.cause, r
    FROM ports p
   CROSS JOIN LATERAL (VALUES
     ('charger_offline', p.off),
     ('charger_faulted', p.c0f - p.off),
     ('charger_unavailable', p.c0u - p.off - p.c0f),
     ('port_faulted', p.pf - p.off - p.c0f - p.c0u),
     ('port_unavailable', p.pu - p.off - p.c0f - p.c0u - p.pf)) AS s(cause, mr)
   CROSS JOIN LATERAL unnest(s.mr * CASE WHEN p.born < p.hi THEN tstzmultirange(tstzrange(p.born, p.hi)) ELSE '{}'::tstzmultirange END) AS r
   WHERE r && tstzrange($4, $5))`;

/** An outage's parts inside scheduled maintenance windows, or null (computed only where there are windows). */
const MAINTENANCE = `CASE WHEN isempty(g.maint) THEN NULL ELSE
           (SELECT json_agg(json_build_array(${ms('lower(m)')}, ${ms('upper(m)')})) FROM unnest(tstzmultirange(g.r) * g.maint) AS m) END`;

/** Per port: outages as objects with what an outage record shows (error codes, who set the exclusion). */
const DETAILED = `
described AS (
  SELECT g.charge_point_id, g.connector_id, json_build_object(
           'cause', g.cause, 'start', ${ms('lower(g.r)')}, 'end', ${ms('upper(g.r)')},
           'error_code', coalesce(nullif(ev.error_code, 'NoError'), er.error_code), 'vendor_error_code', ev.vendor_error_code,
           'reason', ox.reason, 'notes', ox.notes, 'set_by', ox.set_by_key_id, 'set_at', ${ms('ox.set_at')},
           'maintenance', ${MAINTENANCE}
         ) AS o, lower(g.r) AS started_at
    FROM segments g
    LEFT JOIN LATERAL (
      SELECT e.error_code, e.vendor_error_code FROM connector_status_events e
       -- The cause test inside the subquery makes it a one-time filter: other outages skip the scan.
       WHERE g.cause IN ('charger_faulted', 'port_faulted') AND e.charge_point_id = g.charge_point_id
         AND e.connector_id = CASE WHEN g.cause = 'charger_faulted' THEN 0 ELSE g.connector_id END
         AND e.status = 'Faulted' AND e.effective_at <= lower(g.r)
       ORDER BY e.effective_at DESC LIMIT 1) ev ON true
    LEFT JOIN LATERAL (
      SELECT ee.error_code FROM error_events ee
       WHERE g.cause IN ('charger_faulted', 'port_faulted') AND ee.charge_point_id = g.charge_point_id
         AND ee.connector_id = CASE WHEN g.cause = 'charger_faulted' THEN 0 ELSE g.connector_id END
         AND ee.occurred_at <= lower(g.r) AND coalesce(ee.resolved_at, 'infinity') > lower(g.r)
       -- A 2.x Faulted status opens a generic 'Faulted' event beside the Problem event's code: prefer the code.
       ORDER BY (ee.error_code = 'Faulted'), ee.occurred_at DESC LIMIT 1) er ON true
    LEFT JOIN outage_exclusions ox
      ON ox.charge_point_id = g.charge_point_id AND ox.connector_id = g.connector_id AND ox.outage_started_at = lower(g.r))`;

/** The ranges of a multirange (those overlapping [$4, $5) unless `all`) as [start, end, start, end, …] in epoch ms. */
const bounds = (mr: string, all = false) => `to_json(ARRAY(
         SELECT v FROM unnest(${mr}) AS r CROSS JOIN LATERAL (VALUES (${fastMs('lower(r)')}), (${fastMs('upper(r)')})) AS b(v)
          ${all ? '' : 'WHERE r && tstzrange($4, $5)'}))`;

/**
 * What the regime calculators read, one row per charger: the ranges of each cause as arrays of
 * epoch ms, the charger's once rather than per port, and each port's exclusions by outage start.
 * A year of a network has hundreds of outages per port, mostly short offline gaps: one object per
 * outage, and the error-code lookups of DETAILED, would cost most of a report's time. Ports clip
 * the charger's outages to their first report themselves (portOutages).
 */
const LEAN_SQL = `${HISTORY}
SELECT pg.charge_point_id, pg.site_id, rs.rated_power_kw, ${fastMs('now()')} AS now_ms,
       ${bounds('c.off')} AS charger_offline,
       ${bounds('c.c0f - c.off')} AS charger_faulted,
       ${bounds('c.c0u - c.off - c.c0f')} AS charger_unavailable,
       ${bounds('c.maint', true)} AS maintenance,
       (SELECT json_agg(json_build_object(
                 'connector_id', p.connector_id, 'born', ${fastMs('p.born')},
                 'port_faulted', ${bounds('p.pf - p.off - p.c0f - p.c0u')},
                 'port_unavailable', ${bounds('p.pu - p.off - p.c0f - p.c0u - p.pf')},
                 'exclusions', (SELECT json_agg(json_build_array(${fastMs('ox.outage_started_at')}, ox.reason)) FROM outage_exclusions ox
                                 WHERE ox.charge_point_id = p.charge_point_id AND ox.connector_id = p.connector_id))
               ORDER BY p.connector_id)
          FROM ports p WHERE p.charge_point_id = pg.charge_point_id) AS ports
  FROM page pg
  LEFT JOIN charger c ON c.charge_point_id = pg.charge_point_id
  LEFT JOIN charger_reliability_settings rs ON rs.charge_point_id = pg.charge_point_id
 ORDER BY pg.charge_point_id`;

const DETAILED_SQL = `${HISTORY},${SEGMENTS},${DETAILED},
-- Aggregated once and joined: a correlated subquery here would re-run the whole pipeline per port.
by_port AS (
  SELECT d.charge_point_id, d.connector_id, json_agg(d.o ORDER BY d.started_at) AS outages FROM described d GROUP BY 1, 2)
SELECT pg.charge_point_id, pg.site_id, p.connector_id, ${ms('p.born')} AS born, ${ms('now()')} AS now_ms, (p.hi >= now()) AS hi_is_now,
       rs.rated_power_kw,
       coalesce(bp.outages, '[]'::json) AS outages
  FROM page pg
  LEFT JOIN ports p ON p.charge_point_id = pg.charge_point_id
  LEFT JOIN by_port bp ON bp.charge_point_id = p.charge_point_id AND bp.connector_id = p.connector_id
  LEFT JOIN charger_reliability_settings rs ON rs.charge_point_id = pg.charge_point_id
 ORDER BY pg.charge_point_id, p.connector_id`;

interface Row {
  charge_point_id: string;
  site_id: string;
  /** Null for a charger that has reported no port yet. */
  connector_id: number | null;
  born: number;
  now_ms: number;
  hi_is_now: boolean;
  rated_power_kw: number | null;
  outages: DetailedOutage[];
}

interface DetailedOutage {
  cause: OutageCause;
  start: number;
  end: number;
  error_code: string | null;
  vendor_error_code: string | null;
  reason: ExclusionChoice | null;
  notes: string | null;
  set_by: string | null;
  set_at: number | null;
  maintenance: [number, number][] | null;
}

export interface PortHistory<O extends OutageSpan = Outage> {
  port: Port;
  /** In time order; each overlaps the period asked for. */
  outages: O[];
}

export interface PortHistoryPage<O extends OutageSpan> {
  ports: PortHistory<O>[];
  last: string | null;
  more: boolean;
}

/** Chargers per page: bounds the memory of one step of a report or export. */
export const CHARGERS_PER_PAGE = 200;

/** One page of ports (keyset on charge_point_id) with their outage records overlapping [from, to). */
export async function portHistoryPage(
  db: Queryable,
  scope: Scope,
  from: Date,
  to: Date,
  after: string | null,
  chargers = CHARGERS_PER_PAGE,
): Promise<PortHistoryPage<Outage>> {
  const rows = await db.query<Row>(DETAILED_SQL, [...scopeParams(scope), from, to, after, chargers + 1]);
  // One more charger than asked tells whether another page follows; its ports are dropped here.
  const ids = [...new Set(rows.map((r) => r.charge_point_id))];
  const more = ids.length > chargers;
  const keep = new Set(ids.slice(0, chargers));
  const ports = rows
    .filter((r) => keep.has(r.charge_point_id) && r.connector_id !== null)
    .map((r): PortHistory => ({
      port: {
        chargePointId: r.charge_point_id,
        siteId: r.site_id,
        connectorId: r.connector_id!,
        start: r.born,
        end: r.now_ms,
        ratedPowerKw: r.rated_power_kw,
      },
      outages: r.outages.map((o): Outage => ({
        chargePointId: r.charge_point_id,
        siteId: r.site_id,
        connectorId: r.connector_id!,
        cause: o.cause,
        errorCode: o.error_code,
        vendorErrorCode: o.vendor_error_code,
        start: o.start,
        end: o.end,
        ongoing: r.hi_is_now && o.end >= r.now_ms,
        exclusion: o.reason ? ({ reason: o.reason, notes: o.notes, set_by: o.set_by!, set_at: new Date(o.set_at!) } satisfies Exclusion) : null,
        maintenance: o.maintenance ?? [],
      })),
    }));
  const lastId = more ? ids[chargers - 1]! : (ids.at(-1) ?? null);
  return { ports, last: lastId, more };
}

interface LeanPort {
  connector_id: number;
  born: number;
  port_faulted: number[];
  port_unavailable: number[];
  exclusions: [start: number, reason: ExclusionChoice][] | null;
}

interface LeanRow {
  charge_point_id: string;
  site_id: string;
  rated_power_kw: number | null;
  now_ms: number;
  charger_offline: number[];
  charger_faulted: number[];
  charger_unavailable: number[];
  maintenance: number[];
  /** Null for a charger that has reported no port yet. */
  ports: LeanPort[] | null;
}

const NO_MAINTENANCE: readonly [number, number][] = [];
const byStart = (x: OutageSpan, y: OutageSpan) => x.start - y.start;

/** Outages of one cause from [start, end, …] bounds, with their parts inside maintenance windows. */
function spans(cause: OutageCause, b: number[], maintenance: number[]): OutageSpan[] {
  const out: OutageSpan[] = [];
  for (let i = 0; i < b.length; i += 2) {
    const start = b[i]!;
    const end = b[i + 1]!;
    let parts: [number, number][] | undefined;
    for (let j = 0; j < maintenance.length; j += 2) {
      const m0 = Math.max(start, maintenance[j]!);
      const m1 = Math.min(end, maintenance[j + 1]!);
      if (m0 < m1) (parts ??= []).push([m0, m1]);
    }
    out.push({ cause, start, end, exclusion: null, maintenance: parts ?? NO_MAINTENANCE });
  }
  return out;
}

/**
 * One port's outages, as DETAILED would cut them: clipped to the port's first report and keyed by
 * the clipped start for exclusions, in time order. The charger's outages are shared by its ports
 * (the calculators never change an outage) except where a port clips or excludes one; `charger` is
 * in time order.
 */
function portOutages(charger: OutageSpan[], port: LeanPort, maintenance: number[], from: number, to: number): OutageSpan[] {
  const excluded = new Map(port.exclusions ?? []);
  const out: OutageSpan[] = [];
  const add = (o: OutageSpan) => {
    const start = Math.max(o.start, port.born);
    // The database kept ranges overlapping [from, to) before the clip; what the clip leaves must still.
    if (start >= o.end || start >= to || o.end <= from) return;
    const reason = excluded.get(start);
    if (start === o.start && !reason) out.push(o);
    else {
      const clipped = start === o.start ? o : spans(o.cause, [start, o.end], maintenance)[0]!;
      out.push(reason ? { ...clipped, exclusion: { reason } } : clipped);
    }
  };
  for (const o of charger) add(o);
  if (!port.port_faulted.length && !port.port_unavailable.length) return out; // the charger's, already in order (clipping keeps it)
  for (const o of spans('port_faulted', port.port_faulted, maintenance)) add(o);
  for (const o of spans('port_unavailable', port.port_unavailable, maintenance)) add(o);
  // The causes partition a port's down time, so outages never overlap: ordering by start suffices.
  return out.sort(byStart);
}

/** As portHistoryPage, with only what the calculators read of each outage. */
export async function portSpanPage(
  db: Queryable,
  scope: Scope,
  from: Date,
  to: Date,
  after: string | null,
  chargers = CHARGERS_PER_PAGE,
): Promise<PortHistoryPage<OutageSpan>> {
  const rows = await db.query<LeanRow>(LEAN_SQL, [...scopeParams(scope), from, to, after, chargers + 1]);
  const more = rows.length > chargers;
  const kept = rows.slice(0, chargers);
  const ports = kept.flatMap((r) => {
    const charger = [
      ...spans('charger_offline', r.charger_offline, r.maintenance),
      ...spans('charger_faulted', r.charger_faulted, r.maintenance),
      ...spans('charger_unavailable', r.charger_unavailable, r.maintenance),
    ].sort(byStart);
    return (r.ports ?? []).map((p): PortHistory<OutageSpan> => ({
      port: { chargePointId: r.charge_point_id, siteId: r.site_id, connectorId: p.connector_id, start: p.born, end: r.now_ms, ratedPowerKw: r.rated_power_kw },
      outages: portOutages(charger, p, r.maintenance, from.getTime(), to.getTime()),
    }));
  });
  return { ports, last: kept.at(-1)?.charge_point_id ?? null, more };
}

async function* pages<O extends OutageSpan>(
  next: (after: string | null) => Promise<PortHistoryPage<O>>,
): AsyncGenerator<PortHistory<O>[]> {
  let after: string | null = null;
  for (;;) {
    const p = await next(after);
    if (p.ports.length) yield p.ports;
    if (!p.more) return;
    after = p.last;
  }
}

/** Every page of outage records, one after another: memory holds one page at a time. */
export const portHistoryPages = (db: Queryable, scope: Scope, from: Date, to: Date, chargers = CHARGERS_PER_PAGE) =>
  pages((after) => portHistoryPage(db, scope, from, to, after, chargers));

/** Every page of what the calculators read, one after another. */
export const portSpanPages = (db: Queryable, scope: Scope, from: Date, to: Date, chargers = CHARGERS_PER_PAGE) =>
  pages((after) => portSpanPage(db, scope, from, to, after, chargers));
