/**
 * Per-port history, outage records and regime reports (docs/compliance.md), built from the port
 * histories of port-history.ts with the pure calculators of calculators.ts.
 */
import type { Queryable } from '../../store/db.js';
import type { OutageKey } from '../../store/outage-exclusions.js';
import type { Scope } from '../scope.js';
import { wireInstant } from '../../instant.js';
import {
  ZERO, addTotals, allowedExclusions, claimedExclusions, figures, lookback, months, portTotals, portWindow, previousTwelveMonths,
  type Outage, type OutageSpan, type PortFigures, type Span, type Totals,
} from './calculators.js';
import { portHistoryPage, portHistoryPages, portSpanPages, type PortHistory } from './port-history.js';
import { safeText } from './csv.js';
import { sessionRecordPages, sessionSuccess, type SessionSuccessReport } from './session-records.js';
import { RAPID_MIN_KW, REGIME, type RegimeName } from './regimes.js';

const MIN = 60_000;

/** out_ + base64url of [charge_point_id, connector_id, start ms]: stable for as long as the outage's start is. */
export function outageId(o: { chargePointId: string; connectorId: number; start: number }): string {
  return `out_${Buffer.from(JSON.stringify([o.chargePointId, o.connectorId, o.start])).toString('base64url')}`;
}

export function parseOutageId(id: string): OutageKey | null {
  if (!id.startsWith('out_') || id.length > 400) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(id.slice(4), 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 3) return null;
    const [cp, connector, start] = v as unknown[];
    if (typeof cp !== 'string' || !Number.isInteger(connector) || !Number.isSafeInteger(start)) return null;
    return { chargePointId: cp, connectorId: connector as number, startedAt: new Date(start as number) };
  } catch {
    return null;
  }
}

export const portId = (p: { chargePointId: string; connectorId: number }) => `${p.chargePointId}-${p.connectorId}`;

const round2 = (n: number) => Math.round(n * 100) / 100;

export interface OutageView {
  outage_id: string;
  charge_point_id: string;
  site_id: string;
  connector_id: number;
  cause: string;
  error_code: string | null;
  vendor_error_code: string | null;
  started_at: Date;
  ended_at: Date | null;
  duration_minutes: number;
  exclusion: {
    reason: string;
    source: 'operator' | 'maintenance';
    notes: string | null;
    set_by: string | null;
    set_at: Date | null;
    /** Minutes claimed excluded before any regime's cap (caps: the report). */
    excluded_minutes: number;
  } | null;
}

export function outageView(o: Outage): OutageView {
  const claimed = claimedExclusions(o);
  const excludedMs = claimed.reduce((s, c) => s + (c.to - c.from), 0);
  const first = claimed[0];
  return {
    outage_id: outageId(o),
    charge_point_id: o.chargePointId,
    site_id: o.siteId,
    connector_id: o.connectorId,
    cause: o.cause,
    error_code: o.errorCode,
    vendor_error_code: o.vendorErrorCode,
    started_at: new Date(o.start),
    ended_at: o.ongoing ? null : new Date(o.end),
    duration_minutes: round2((o.end - o.start) / MIN),
    exclusion: o.exclusion?.reason === 'not_excluded'
      ? { reason: 'not_excluded', source: 'operator', notes: o.exclusion.notes, set_by: o.exclusion.set_by, set_at: o.exclusion.set_at, excluded_minutes: 0 }
      : first
        ? {
            reason: first.reason,
            source: first.source,
            notes: o.exclusion?.notes ?? null,
            set_by: o.exclusion?.set_by ?? null,
            set_at: o.exclusion?.set_at ?? null,
            excluded_minutes: round2(excludedMs / MIN),
          }
        : null,
  };
}

const spanOf = (from: Date, to: Date): Span => ({ from: from.getTime(), to: to.getTime() });

export interface PortRow {
  charge_point_id: string;
  site_id: string;
  connector_id: number;
  port_id: string;
  in_service_since: Date;
  window_minutes: number;
  downtime_minutes: number;
  excluded_downtime_minutes: number;
  uptime_percent: number | null;
  outage_count: number;
}

/** Per-port operational history: every minute down counts; excluded time (NEVI, uncapped) beside it. */
export async function portRows(db: Queryable, scope: Scope, from: Date, to: Date): Promise<PortRow[]> {
  const span = spanOf(from, to);
  const out: PortRow[] = [];
  for await (const page of portSpanPages(db, scope, from, to)) {
    for (const { port, outages } of page) {
      const op = portTotals(REGIME.operational, port, outages, span);
      const nevi = portTotals(REGIME.nevi, port, outages, span);
      const f = figures(REGIME.operational, op);
      out.push({
        charge_point_id: port.chargePointId,
        site_id: port.siteId,
        connector_id: port.connectorId,
        port_id: portId(port),
        in_service_since: new Date(port.start),
        window_minutes: f.window_minutes,
        downtime_minutes: f.outage_minutes,
        excluded_downtime_minutes: round2(nevi.excludedMs / MIN),
        uptime_percent: f.uptime_percent,
        outage_count: outages.filter((o) => o.end > span.from && o.start < span.to).length,
      });
    }
  }
  return out;
}

/** Outage records overlapping [from, to), page by page (memory: one page of chargers). */
export async function* outagePages(db: Queryable, scope: Scope, from: Date, to: Date): AsyncGenerator<OutageView[]> {
  for await (const page of portHistoryPages(db, scope, from, to)) yield page.flatMap((p) => p.outages.map(outageView));
}

/** One outage by its key, or undefined when no outage starts there (or the charger is another tenant's). */
export async function findOutage(db: Queryable, tenantId: string, k: OutageKey): Promise<Outage | undefined> {
  const at = k.startedAt.getTime();
  const page = await portHistoryPage(db, { tenantId, chargePointId: k.chargePointId }, new Date(at), new Date(at + 1), null, 1);
  return page.ports
    .find((p) => p.port.connectorId === k.connectorId)
    ?.outages.find((o) => o.start === at);
}

type Figures = PortFigures;
interface Aggregate extends Figures {
  ports: number;
  ports_passing: number | null;
}

function aggregate(name: RegimeName, items: { totals: Totals; pass: boolean | null }[]): Aggregate {
  const regime = REGIME[name];
  const t = items.reduce((s, i) => addTotals(s, i.totals), ZERO);
  return {
    ...figures(regime, t),
    ports: items.length,
    ports_passing: regime.threshold ? items.filter((i) => i.pass).length : null,
  };
}

export interface ReportPort extends Figures {
  charge_point_id: string;
  site_id: string;
  connector_id: number;
  port_id: string;
  /** NEVI only: each calendar month of the period. */
  monthly?: ({ month: Date } & Figures)[];
  /** NEVI only: the twelve months before the period's end, which the 97 % applies to (23 CFR 680.116(b)(2)). */
  previous_12_months?: { from: Date; to: Date } & Figures;
}

export interface Report {
  regime: RegimeName;
  source: string;
  threshold: { percent: number; comparison: 'above' | 'at_least' } | null;
  ports: ReportPort[];
  chargers: ({ charge_point_id: string; site_id: string } & Aggregate)[];
  sites: ({ site_id: string } & Aggregate)[];
  fleet: Aggregate;
  /** Charge session success rate over the sessions started in the period, whatever the regime covers. */
  session_success: SessionSuccessReport;
  /** uk_pcpr only: the network average and the chargers left out. */
  network?: {
    reliability_percent: number | null;
    simple_mean_percent: number | null;
    pass: boolean | null;
    rapid_chargers: number;
    chargers_not_rapid: number;
    chargers_without_rated_power: number;
  };
}

/** Which ports a regime covers: uk_pcpr only rapid charge points (rated 50 kW or more). */
function covered(name: RegimeName, p: PortHistory<OutageSpan>): 'yes' | 'not_rapid' | 'unknown_power' {
  if (REGIME[name].covers === 'all') return 'yes';
  if (p.port.ratedPowerKw === null) return 'unknown_power';
  return p.port.ratedPowerKw >= RAPID_MIN_KW ? 'yes' : 'not_rapid';
}

/** A regime's report over [from, to): each port with pass/fail, and chargers, sites and the fleet. */
export async function regimeReport(db: Queryable, scope: Scope, name: RegimeName, from: Date, to: Date): Promise<Report> {
  const regime = REGIME[name];
  const span = spanOf(from, to);
  const fetchFrom = new Date(lookback(name, span));
  // On its own connection while the ports are read (with PGlite, queued behind them); handled here so
  // that a failure while reading ports never leaves it rejected unobserved.
  const successing = sessionSuccess(db, scope, from, to);
  successing.catch(() => undefined);
  const ports: (ReportPort & { totals: Totals })[] = [];
  const skipped = { not_rapid: new Set<string>(), unknown_power: new Set<string>() };
  for await (const page of portSpanPages(db, scope, fetchFrom, to)) {
    for (const h of page) {
      const c = covered(name, h);
      if (c !== 'yes') {
        skipped[c].add(h.port.chargePointId);
        continue;
      }
      const allowed = allowedExclusions(regime, h.outages);
      const totals = portTotals(regime, h.port, h.outages, span, allowed);
      const row: ReportPort & { totals: Totals } = {
        charge_point_id: h.port.chargePointId,
        site_id: h.port.siteId,
        connector_id: h.port.connectorId,
        port_id: portId(h.port),
        ...figures(regime, totals),
        totals,
      };
      if (name === 'nevi') {
        row.monthly = months(span).map((m) => ({ month: new Date(m.from), ...figures(regime, portTotals(regime, h.port, h.outages, m, allowed)) }));
        const p12 = previousTwelveMonths(span.to);
        const f12 = figures(regime, portTotals(regime, h.port, h.outages, p12, allowed));
        row.previous_12_months = { from: new Date(p12.from), to: new Date(p12.to), ...f12 };
        row.pass = f12.pass;
      }
      ports.push(row);
    }
  }
  const group = <K extends string>(key: (p: ReportPort) => K) => {
    const m = new Map<K, (ReportPort & { totals: Totals })[]>();
    for (const p of ports) m.set(key(p), [...(m.get(key(p)) ?? []), p]);
    return m;
  };
  const chargers = [...group((p) => p.charge_point_id)].map(([id, ps]) => ({ charge_point_id: id, site_id: ps[0]!.site_id, ...aggregate(name, ps) }));
  const sites = [...group((p) => p.site_id)].map(([id, ps]) => ({ site_id: id, ...aggregate(name, ps) }));
  const report: Report = {
    regime: name,
    source: regime.source,
    threshold: regime.threshold,
    ports: ports.map(({ totals: _t, ...p }) => p),
    chargers,
    sites,
    fleet: aggregate(name, ports),
    session_success: await successing,
  };
  if (name === 'uk_pcpr') report.network = ukNetwork(ports, skipped);
  return report;
}

/**
 * UK PCPR reg. 7(2): the network "on average" reliable 99 % of a calendar year. Each charge point's
 * reliability is the time-weighted mean of its EVSEs; the network figure is the mean over charge
 * points weighted by the time each was measured, so one commissioned in December weighs a month,
 * not a year. With every charge point measured the whole year this is the plain mean, which is
 * reported beside it.
 */
function ukNetwork(ports: (ReportPort & { totals: Totals })[], skipped: { not_rapid: Set<string>; unknown_power: Set<string> }): Report['network'] {
  const byCharger = new Map<string, Totals[]>();
  for (const p of ports) byCharger.set(p.charge_point_id, [...(byCharger.get(p.charge_point_id) ?? []), p.totals]);
  let weighted = 0;
  let weight = 0;
  let plain = 0;
  let n = 0;
  for (const ts of byCharger.values()) {
    const t = ts.reduce(addTotals, ZERO);
    if (t.windowMs <= 0) continue;
    const r = (t.windowMs - (t.outageMs - t.excludedMs)) / t.windowMs;
    const w = Math.max(...ts.map((x) => x.windowMs));
    weighted += r * w;
    weight += w;
    plain += r;
    n += 1;
  }
  const pct = weight > 0 ? (100 * weighted) / weight : null;
  const threshold = REGIME.uk_pcpr.threshold!;
  return {
    reliability_percent: pct === null ? null : round2(pct),
    simple_mean_percent: n ? round2((100 * plain) / n) : null,
    pass: pct === null ? null : pct >= threshold.percent,
    rapid_chargers: byCharger.size,
    chargers_not_rapid: skipped.not_rapid.size,
    chargers_without_rated_power: skipped.unknown_power.size,
  };
}

/** EV-ChART Module 3 rows: per port and calendar month of the period, NEVI uptime over the twelve months to the month's end. */
export async function* module3Rows(db: Queryable, scope: Scope, from: Date, to: Date, chargersPerPage?: number): AsyncGenerator<string[][]> {
  const span = spanOf(from, to);
  const fetchFrom = new Date(previousTwelveMonths(months(span)[0]!.to).from);
  const regime = REGIME.nevi;
  for await (const page of portSpanPages(db, scope, fetchFrom, to, chargersPerPage)) {
    const rows: string[][] = [];
    for (const h of page) {
      const allowed = allowedExclusions(regime, h.outages);
      for (const m of months(span)) {
        if (portWindow(h.port, m).to <= portWindow(h.port, m).from) continue;
        const p12 = previousTwelveMonths(m.to);
        const f = figures(regime, portTotals(regime, h.port, h.outages, p12, allowed));
        rows.push([
          h.port.siteId, portId(h.port), h.port.chargePointId, String(h.port.connectorId),
          iso(m.from), iso(m.to), iso(p12.from), iso(p12.to),
          num(f.uptime_percent), num(f.outage_minutes), num(f.excluded_minutes), num(f.window_minutes),
        ]);
      }
    }
    yield rows;
  }
}

/** EV-ChART Module 4 rows: every outage overlapping the period, with cause and exclusion. */
export async function* module4Rows(db: Queryable, scope: Scope, from: Date, to: Date, chargersPerPage?: number): AsyncGenerator<string[][]> {
  for await (const page of portHistoryPages(db, scope, from, to, chargersPerPage)) {
    yield page.flatMap((h) =>
      h.outages.map((o) => {
        const v = outageView(o);
        return [
          h.port.siteId, portId(h.port), h.port.chargePointId, String(h.port.connectorId), v.outage_id,
          iso(o.start), v.ended_at ? iso(o.end) : '', num(v.duration_minutes), v.cause, safeText(v.error_code ?? ''),
          v.exclusion && v.exclusion.reason !== 'not_excluded' ? 'true' : 'false', v.exclusion?.reason ?? '', v.exclusion?.source ?? '',
          num(v.exclusion?.excluded_minutes ?? 0), safeText(v.exclusion?.notes ?? ''),
        ];
      }),
    );
  }
}

/** EV-ChART Module 2 rows: every session started in the period, its energy, peak power and whether it ended in error. */
export async function* module2Rows(db: Queryable, scope: Scope, from: Date, to: Date, sessionsPerPage?: number): AsyncGenerator<string[][]> {
  for await (const page of sessionRecordPages(db, scope, from, to, sessionsPerPage)) {
    yield page.map((s) => [
      s.site_id, portId({ chargePointId: s.charge_point_id, connectorId: s.connector_id }), s.charge_point_id, String(s.connector_id), s.session_id,
      iso(s.started_at.getTime()), s.stopped_at ? iso(s.stopped_at.getTime()) : '', num(s.energy_kwh), num(s.peak_kw),
      s.session_error === null ? '' : String(s.session_error), safeText(s.error_code ?? ''), safeText(s.stop_reason ?? ''), s.outcome,
    ]);
  }
}

export const MODULE2_HEADER = [
  'station_id', 'port_id', 'charge_point_id', 'connector_id', 'session_id', 'session_start', 'session_end', 'energy_kwh', 'peak_kw',
  'session_error', 'error_code', 'ended_by', 'outcome',
];
export const MODULE3_HEADER = [
  'station_id', 'port_id', 'charge_point_id', 'connector_id', 'uptime_reporting_start', 'uptime_reporting_end',
  'uptime_window_start', 'uptime_window_end', 'uptime', 'total_outage', 'total_outage_excl', 'window_minutes',
];
export const MODULE4_HEADER = [
  'station_id', 'port_id', 'charge_point_id', 'connector_id', 'outage_id', 'outage_start', 'outage_end', 'outage_duration',
  'cause', 'error_code', 'excluded', 'exclusion_reason', 'exclusion_source', 'excluded_minutes', 'notes',
];

const iso = (ms: number) => wireInstant(new Date(ms));
const num = (n: number | null) => (n === null ? '' : String(n));
