import type { Queryable } from '../../store/db.js';
import { SCOPE_CTE, scopeParams, type Scope } from '../scope.js';
import { DOWN_STATUSES } from '../charger-status.js';
import type { Exclusion, Outage, OutageCause, Port } from './calculators.js';
import type { ExclusionChoice } from './regimes.js';

const ms = (x: string) => `(extract(epoch FROM ${x}) * 1000)::double precision`;

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
 * Parameters: $1–$3 scope, $4 from, $5 to, $6 charge_point_id after which the page starts (keyset),
 * $7 chargers per page.
 */
const SQL = `
WITH ${SCOPE_CTE},
page AS (
  SELECT s.* FROM scope s WHERE ($6::text IS NULL OR s.charge_point_id > $6) ORDER BY s.charge_point_id LIMIT $7),
bounds AS (
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
    LEFT JOIN st pu ON pu.charge_point_id = x.charge_point_id AND pu.connector_id = x.connector_id AND pu.status = 'Unavailable'),
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
   WHERE r && tstzrange($4, $5)),
described AS (
  SELECT g.charge_point_id, g.connector_id, json_build_object(
           'cause', g.cause, 'start', ${ms('lower(g.r)')}, 'end', ${ms('upper(g.r)')},
           'error_code', coalesce(nullif(ev.error_code, 'NoError'), er.error_code), 'vendor_error_code', ev.vendor_error_code,
           'reason', ox.reason, 'notes', ox.notes, 'set_by', ox.set_by_key_id, 'set_at', ${ms('ox.set_at')},
           'maintenance', (SELECT json_agg(json_build_array(${ms('lower(m)')}, ${ms('upper(m)')})) FROM unnest(tstzmultirange(g.r) * g.maint) AS m)
         ) AS o, lower(g.r) AS started_at
    FROM segments g
    LEFT JOIN LATERAL (
      SELECT e.error_code, e.vendor_error_code FROM connector_status_events e
       WHERE e.charge_point_id = g.charge_point_id AND e.connector_id = CASE WHEN g.cause = 'charger_faulted' THEN 0 ELSE g.connector_id END
         AND e.status = 'Faulted' AND e.effective_at <= lower(g.r)
       ORDER BY e.effective_at DESC LIMIT 1) ev ON g.cause IN ('charger_faulted', 'port_faulted')
    LEFT JOIN LATERAL (
      SELECT ee.error_code FROM error_events ee
       WHERE ee.charge_point_id = g.charge_point_id AND ee.connector_id = CASE WHEN g.cause = 'charger_faulted' THEN 0 ELSE g.connector_id END
         AND ee.occurred_at <= lower(g.r) AND coalesce(ee.resolved_at, 'infinity') > lower(g.r)
       -- A 2.x Faulted status opens a generic 'Faulted' event beside the Problem event's code: prefer the code.
       ORDER BY (ee.error_code = 'Faulted'), ee.occurred_at DESC LIMIT 1) er ON g.cause IN ('charger_faulted', 'port_faulted')
    LEFT JOIN outage_exclusions ox
      ON ox.charge_point_id = g.charge_point_id AND ox.connector_id = g.connector_id AND ox.outage_started_at = lower(g.r)),
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
  outages: {
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
  }[];
}

export interface PortHistory {
  port: Port;
  /** In time order; each overlaps the period asked for. */
  outages: Outage[];
}

/** Chargers per page: bounds the memory of one step of a report or export. */
export const CHARGERS_PER_PAGE = 200;

/** One page of ports (keyset on charge_point_id) with their outages overlapping [from, to). */
export async function portHistoryPage(
  db: Queryable,
  scope: Scope,
  from: Date,
  to: Date,
  after: string | null,
  chargers = CHARGERS_PER_PAGE,
): Promise<{ ports: PortHistory[]; last: string | null; more: boolean }> {
  const rows = await db.query<Row>(SQL, [...scopeParams(scope), from, to, after, chargers + 1]);
  // One more charger than asked tells whether another page follows; its ports are dropped here.
  const ids = [...new Set(rows.map((r) => r.charge_point_id))];
  const more = ids.length > chargers;
  const keep = new Set(ids.slice(0, chargers));
  const ports = rows
    .filter((r) => keep.has(r.charge_point_id) && r.connector_id !== null)
    .map((r): PortHistory => {
      const port: Port = {
        chargePointId: r.charge_point_id,
        siteId: r.site_id,
        connectorId: r.connector_id!,
        start: r.born,
        end: r.now_ms,
        ratedPowerKw: r.rated_power_kw,
      };
      const outages = r.outages.map((o): Outage => ({
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
      }));
      return { port, outages };
    });
  const lastId = more ? ids[chargers - 1]! : (ids.at(-1) ?? null);
  return { ports, last: lastId, more };
}

/** Every page, one after another: memory holds one page at a time. */
export async function* portHistoryPages(db: Queryable, scope: Scope, from: Date, to: Date, chargers = CHARGERS_PER_PAGE): AsyncGenerator<PortHistory[]> {
  let after: string | null = null;
  for (;;) {
    const page = await portHistoryPage(db, scope, from, to, after, chargers);
    if (page.ports.length) yield page.ports;
    if (!page.more) return;
    after = page.last;
  }
}
