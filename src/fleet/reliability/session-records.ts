/**
 * Charging sessions for compliance: EV-ChART Module 2 rows (23 CFR 680.112(a)(3)–(5)) and the charge
 * session success rate (docs/compliance.md "Sessions"). One classification of a session's outcome,
 * in SQL, serves both, so the export and the rate cannot disagree.
 */
import type { Queryable } from '../../store/db.js';
import { SCOPE_CTE, scopeParams, type Scope } from '../scope.js';

/**
 * Stop reasons (OCPP 1.6 StopTransaction.reason, 2.x transactionInfo.stoppedReason) that end a
 * session normally: the driver, their vehicle, or a limit set for the session stopped it. Every
 * other value, a vendor's unknown one and Dynamo's own SupersededByNewSession (the stop was never
 * received) included, ends it in error.
 */
export const NORMAL_STOP_REASONS = [
  'Local',
  'Remote',
  'EVDisconnected',
  'StoppedByEV',
  'EnergyLimitReached',
  'SOCLimitReached',
  'TimeLimitReached',
  'LocalOutOfCredit',
] as const;

export const OUTCOMES = ['successful', 'no_energy', 'ended_in_error', 'energy_unknown', 'not_authorised', 'in_progress'] as const;
export type Outcome = (typeof OUTCOMES)[number];

// Energy exactly as the sessions API counts it (src/store/functions/energy.sql).
const ENERGY_WH = 'dynamo_session_energy_wh(z.meter_start_wh, z.meter_stop_wh, z.last_meter_wh, z.energy_excluded)';
// A missing reason is Local: both OCPP versions allow leaving it out only then.
const ENDED_IN_ERROR = `(z.stopped_at IS NOT NULL AND coalesce(z.stop_reason, 'Local') NOT IN (${NORMAL_STOP_REASONS.map((r) => `'${r}'`).join(', ')}))`;
/**
 * The first that applies. A session is authorised when it carries an id token (every 1.6 start
 * does; a 2.x transaction opened by plugging in has none until a token is presented) or it
 * delivered energy anyway.
 */
const OUTCOME = `CASE
    WHEN z.stopped_at IS NULL THEN 'in_progress'
    WHEN z.id_tag IS NULL AND coalesce(${ENERGY_WH}, 0) <= 0 THEN 'not_authorised'
    WHEN ${ENDED_IN_ERROR} THEN 'ended_in_error'
    WHEN ${ENERGY_WH} IS NULL THEN 'energy_unknown'
    WHEN ${ENERGY_WH} > 0 THEN 'successful'
    ELSE 'no_energy' END`;

/** How long after a session's end a fault report still explains it: chargers often report the fault just after stopping. */
const FAULT_AFTER_END = `interval '1 minute'`;

/**
 * Sessions started in [$4, $5), ordered by start then id; $6/$7 the (started_at, session_id) after
 * which a page starts (keyset), $8 page size, $9 offset.
 */
const RECORDS_SQL = `
WITH ${SCOPE_CTE},
picked AS (
  SELECT z.*, s.site_id, ${ENERGY_WH} AS energy_wh, ${OUTCOME} AS outcome, ${ENDED_IN_ERROR} AS ended_in_error
    FROM sessions z JOIN scope s ON s.charge_point_id = z.charge_point_id
   WHERE z.started_at >= $4 AND z.started_at < $5
     AND ($6::timestamptz IS NULL OR (z.started_at, z.session_id) > ($6::timestamptz, $7::bigint))
   ORDER BY z.started_at, z.session_id
   LIMIT $8 OFFSET $9)
SELECT 'ses_' || p.session_id AS session_id, p.session_id::text AS key_id, p.started_at::text AS key_at,
       p.charge_point_id, p.site_id, p.connector_id, p.transaction_id, p.started_at, p.stopped_at, p.stop_reason,
       round((p.energy_wh / 1000)::numeric, 3)::double precision AS energy_kwh,
       round((peak.w / 1000)::numeric, 3)::double precision AS peak_kw,
       CASE WHEN p.stopped_at IS NULL THEN NULL ELSE p.ended_in_error END AS session_error,
       CASE WHEN p.ended_in_error THEN coalesce(fault.error_code, p.stop_reason) END AS error_code,
       p.outcome
  FROM picked p
  -- Peak power: the highest Power.Active.Import of the session, the total where the charger sent one, else the sum of its phases.
  LEFT JOIN LATERAL (
    SELECT max(t.w) AS w FROM (
      SELECT CASE WHEN bool_or(m.phase IS NULL) THEN max(m.value) FILTER (WHERE m.phase IS NULL)
                  ELSE sum(m.value) FILTER (WHERE m.phase IN ('L1', 'L2', 'L3', 'L1-N', 'L2-N', 'L3-N')) END AS w
        FROM meter_samples m
       WHERE m.session_id = p.session_id AND m.measurand = 'Power.Active.Import'
       GROUP BY m.sampled_at) t) peak ON true
  -- The fault behind a session that ended in error: the last the port or the whole charger reported while it ran.
  LEFT JOIN LATERAL (
    SELECT ee.error_code FROM error_events ee
     WHERE ee.charge_point_id = p.charge_point_id AND ee.connector_id IN (0, p.connector_id)
       AND ee.occurred_at <= p.stopped_at + ${FAULT_AFTER_END} AND coalesce(ee.resolved_at, 'infinity') >= p.started_at
     -- A 2.x Faulted status opens a generic 'Faulted' event beside the Problem event's code: prefer the code.
     ORDER BY (ee.error_code = 'Faulted'), ee.occurred_at DESC LIMIT 1) fault ON p.ended_in_error
 ORDER BY p.started_at, p.session_id`;

export interface SessionRecord {
  session_id: string;
  charge_point_id: string;
  site_id: string;
  connector_id: number;
  transaction_id: string;
  started_at: Date;
  stopped_at: Date | null;
  stop_reason: string | null;
  energy_kwh: number | null;
  peak_kw: number | null;
  /** Null while the session runs. */
  session_error: boolean | null;
  error_code: string | null;
  outcome: Outcome;
}

interface Row extends SessionRecord {
  key_id: string;
  key_at: string;
}

const strip = ({ key_id: _i, key_at: _a, ...r }: Row): SessionRecord => r;

/** One page of sessions started in [from, to), by offset (the JSON list). */
export async function sessionRecords(db: Queryable, scope: Scope, from: Date, to: Date, page: { limit: number; offset: number }): Promise<SessionRecord[]> {
  const rows = await db.query<Row>(RECORDS_SQL, [...scopeParams(scope), from, to, null, null, page.limit, page.offset]);
  return rows.map(strip);
}

export async function countSessionRecords(db: Queryable, scope: Scope, from: Date, to: Date): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `WITH ${SCOPE_CTE} SELECT count(*)::int AS n FROM sessions z JOIN scope s ON s.charge_point_id = z.charge_point_id WHERE z.started_at >= $4 AND z.started_at < $5`,
    [...scopeParams(scope), from, to],
  );
  return row?.n ?? 0;
}

/** Sessions per page of an export: bounds the memory of one step. */
export const SESSIONS_PER_PAGE = 1000;

/** Every session started in [from, to), page by page (keyset on start and id): memory holds one page. */
export async function* sessionRecordPages(db: Queryable, scope: Scope, from: Date, to: Date, perPage = SESSIONS_PER_PAGE): AsyncGenerator<SessionRecord[]> {
  let after: [string, string] | [null, null] = [null, null];
  for (;;) {
    const rows: Row[] = await db.query<Row>(RECORDS_SQL, [...scopeParams(scope), from, to, ...after, perPage, 0]);
    if (rows.length) yield rows.map(strip);
    if (rows.length < perPage) return;
    const last: Row = rows.at(-1)!;
    after = [last.key_at, last.key_id];
  }
}

/** Session counts of one charger over a period, by outcome. */
export interface SessionCounts {
  sessions: number;
  successful: number;
  no_energy: number;
  ended_in_error: number;
  energy_unknown: number;
  not_authorised: number;
  in_progress: number;
}

const COUNTS_SQL = `
WITH ${SCOPE_CTE},
o AS (
  SELECT z.charge_point_id, ${OUTCOME} AS outcome
    FROM sessions z JOIN scope s ON s.charge_point_id = z.charge_point_id
   WHERE z.started_at >= $4 AND z.started_at < $5)
SELECT s.charge_point_id, s.site_id, count(o.outcome)::int AS sessions,
       ${OUTCOMES.map((k) => `count(*) FILTER (WHERE o.outcome = '${k}')::int AS ${k}`).join(',\n       ')}
  FROM scope s LEFT JOIN o ON o.charge_point_id = s.charge_point_id
 GROUP BY s.charge_point_id, s.site_id
 ORDER BY s.charge_point_id`;

/** Per charger in scope (those without sessions too), the sessions started in [from, to) by outcome. */
export async function sessionCountsByCharger(
  db: Queryable,
  scope: Scope,
  from: Date,
  to: Date,
): Promise<({ charge_point_id: string; site_id: string } & SessionCounts)[]> {
  return db.query(COUNTS_SQL, [...scopeParams(scope), from, to]);
}

/** The charge session success rate of a group of sessions (docs/compliance.md "Charge session success rate"). */
export interface SessionSuccess extends SessionCounts {
  /** successful + no_energy + ended_in_error: authorised sessions that ended, their energy known or their end an error. */
  attempts: number;
  /** 100 × successful ÷ attempts, two decimals; null without attempts. */
  success_rate_percent: number | null;
}

const NO_COUNTS: SessionCounts = { sessions: 0, successful: 0, no_energy: 0, ended_in_error: 0, energy_unknown: 0, not_authorised: 0, in_progress: 0 };

function success(items: SessionCounts[]): SessionSuccess {
  const c = { ...NO_COUNTS };
  for (const i of items) for (const k of Object.keys(c) as (keyof SessionCounts)[]) c[k] += i[k];
  const attempts = c.successful + c.no_energy + c.ended_in_error;
  return { ...c, attempts, success_rate_percent: attempts ? Math.round((10_000 * c.successful) / attempts) / 100 : null };
}

export interface SessionSuccessReport {
  chargers: ({ charge_point_id: string; site_id: string } & SessionSuccess)[];
  sites: ({ site_id: string } & SessionSuccess)[];
  fleet: SessionSuccess;
}

/** The success rate per charger, site and fleet over the sessions started in [from, to). */
export async function sessionSuccess(db: Queryable, scope: Scope, from: Date, to: Date): Promise<SessionSuccessReport> {
  const rows = await sessionCountsByCharger(db, scope, from, to);
  const bySite = new Map<string, SessionCounts[]>();
  for (const r of rows) {
    const site = bySite.get(r.site_id);
    if (site) site.push(r);
    else bySite.set(r.site_id, [r]);
  }
  return {
    chargers: rows.map((r) => ({ charge_point_id: r.charge_point_id, site_id: r.site_id, ...success([r]) })),
    sites: [...bySite].map(([site_id, rs]) => ({ site_id, ...success(rs) })),
    fleet: success(rows),
  };
}
