/**
 * The regime calculators: pure functions over a port's outages (docs/compliance.md). Times are
 * epoch milliseconds, windows half-open [from, to), calendar years and months in UTC.
 */
import { REGIME, type ExclusionChoice, type ExclusionReason, type Regime, type RegimeName } from './regimes.js';

export type OutageCause = 'charger_offline' | 'charger_faulted' | 'charger_unavailable' | 'port_faulted' | 'port_unavailable';

export interface Exclusion {
  reason: ExclusionChoice;
  notes: string | null;
  set_by: string;
  set_at: Date;
}

/** What the calculators read of an outage. */
export interface OutageSpan {
  cause: OutageCause;
  start: number;
  /** The end as far as known: the outage's end, or now while it lasts. */
  end: number;
  /** What an operator set on the outage, if anything. */
  exclusion: Pick<Exclusion, 'reason'> | null;
  /** Parts of the outage inside completed scheduled maintenance windows (the pre-fill). */
  maintenance: readonly (readonly [number, number])[];
}

/** An outage record: its span and what it shows an operator. */
export interface Outage extends OutageSpan {
  chargePointId: string;
  siteId: string;
  connectorId: number;
  errorCode: string | null;
  vendorErrorCode: string | null;
  ongoing: boolean;
  exclusion: Exclusion | null;
}

/** A port's life: from its first status report (or the charger's registration, if later) to now. */
export interface Port {
  chargePointId: string;
  siteId: string;
  connectorId: number;
  start: number;
  end: number;
  ratedPowerKw: number | null;
}

export interface Span {
  from: number;
  to: number;
}

const MIN = 60_000;

const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));

/** The measured window of a port: the period clipped to the port's life. */
export function portWindow(port: Port, span: Span): Span {
  const from = Math.max(span.from, port.start);
  return { from, to: Math.max(from, Math.min(span.to, port.end)) };
}

/** The excluded parts of an outage before any cap: an operator's choice wins over the maintenance pre-fill. */
export function claimedExclusions(o: OutageSpan): { from: number; to: number; reason: ExclusionReason; source: 'operator' | 'maintenance' }[] {
  if (o.exclusion) {
    return o.exclusion.reason === 'not_excluded' ? [] : [{ from: o.start, to: o.end, reason: o.exclusion.reason, source: 'operator' }];
  }
  return o.maintenance.map(([from, to]) => ({ from, to, reason: 'scheduled_maintenance' as const, source: 'maintenance' as const }));
}

const yearStart = (t: number) => Date.UTC(new Date(t).getUTCFullYear(), 0, 1);
const nextYear = (t: number) => Date.UTC(new Date(t).getUTCFullYear() + 1, 0, 1);

/**
 * The excluded intervals a regime allows for one port, caps applied. Outages must be in time
 * order and, for per-year caps, reach back to 1 January of the earliest year measured, since a
 * cap is consumed from then on.
 */
export function allowedExclusions(regime: Regime, outages: readonly OutageSpan[]): [number, number][] {
  const used = new Map<string, number>(); // `${reason}:${year start}` → minutes of the year's cap used
  const out: [number, number][] = [];
  for (const o of outages) {
    if (!regime.offlineIsDown && o.cause === 'charger_offline') continue;
    for (const part of claimedExclusions(o)) {
      if (!(part.reason in regime.excluded)) continue;
      const cap = regime.excluded[part.reason] ?? null;
      if (!cap) {
        out.push([part.from, part.to]);
      } else if (cap.per === 'incident') {
        out.push([part.from, Math.min(part.to, part.from + cap.minutes * MIN)]);
      } else {
        // Split at year boundaries: each calendar year has its own allowance.
        for (let s = part.from; s < part.to; s = nextYear(s)) {
          const e = Math.min(part.to, nextYear(s));
          const key = `${part.reason}:${yearStart(s)}`;
          const left = cap.minutes * MIN - (used.get(key) ?? 0);
          const take = Math.max(0, Math.min(left, e - s));
          if (take > 0) out.push([s, s + take]);
          used.set(key, (used.get(key) ?? 0) + take);
        }
      }
    }
  }
  return out;
}

export interface PortFigures {
  window_minutes: number;
  /** T_outage: down time in the window (for uk_pcpr, time not reliable). */
  outage_minutes: number;
  /** T_excluded: the part of it the regime excludes, caps applied. */
  excluded_minutes: number;
  /** µ = (T − (T_outage − T_excluded)) / T × 100, two decimals; null when the window is empty. */
  uptime_percent: number | null;
  /** Against the regime's threshold, from the unrounded figure; null without a threshold or window. */
  pass: boolean | null;
  /** Offline time a regime does not count as down (uk_pcpr: "ineligible for measurement"). */
  unmeasured_minutes: number;
}

export interface Totals {
  windowMs: number;
  outageMs: number;
  excludedMs: number;
  unmeasuredMs: number;
}

const minutes = (ms: number) => Math.round((ms / MIN) * 100) / 100;
const twoDecimals = (n: number) => Math.round(n * 100) / 100;

export function uptimeFraction(t: Totals): number | null {
  return t.windowMs > 0 ? (t.windowMs - (t.outageMs - t.excludedMs)) / t.windowMs : null;
}

export function passes(regime: Regime, fraction: number | null): boolean | null {
  if (!regime.threshold || fraction === null) return null;
  const pct = fraction * 100;
  return regime.threshold.comparison === 'above' ? pct > regime.threshold.percent : pct >= regime.threshold.percent;
}

export function figures(regime: Regime, t: Totals): PortFigures {
  const f = uptimeFraction(t);
  return {
    window_minutes: minutes(t.windowMs),
    outage_minutes: minutes(t.outageMs),
    excluded_minutes: minutes(t.excludedMs),
    uptime_percent: f === null ? null : twoDecimals(f * 100),
    pass: passes(regime, f),
    unmeasured_minutes: minutes(t.unmeasuredMs),
  };
}

/** Sums of a union of (possibly overlapping) intervals clipped to a window. */
function unionWithin(intervals: [number, number][], w: Span): number {
  const xs = intervals
    .map(([a, b]) => [Math.max(a, w.from), Math.min(b, w.to)] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((p, q) => p[0] - q[0]);
  let total = 0;
  let cur: [number, number] | null = null;
  for (const x of xs) {
    if (cur && x[0] <= cur[1]) cur[1] = Math.max(cur[1], x[1]);
    else {
      if (cur) total += cur[1] - cur[0];
      cur = [x[0], x[1]];
    }
  }
  return cur ? total + cur[1] - cur[0] : total;
}

/**
 * One port over one span under one regime. `outages` are the port's, in time order, reaching
 * back as far as the regime's caps need (allowedExclusions).
 */
export function portTotals(regime: Regime, port: Port, outages: readonly OutageSpan[], span: Span, allowed = allowedExclusions(regime, outages)): Totals {
  const w = portWindow(port, span);
  let outageMs = 0;
  let unmeasuredMs = 0;
  const down: [number, number][] = [];
  for (const o of outages) {
    const inside = overlap(o.start, o.end, w.from, w.to);
    if (!regime.offlineIsDown && o.cause === 'charger_offline') unmeasuredMs += inside;
    else {
      outageMs += inside;
      down.push([o.start, o.end]);
    }
  }
  // Excluded time is only ever part of counted down time (outages of one port never overlap).
  const excludedMs = Math.min(outageMs, unionWithin(allowed, w));
  return { windowMs: w.to - w.from, outageMs, excludedMs, unmeasuredMs };
}

export const addTotals = (a: Totals, b: Totals): Totals => ({
  windowMs: a.windowMs + b.windowMs,
  outageMs: a.outageMs + b.outageMs,
  excludedMs: a.excludedMs + b.excludedMs,
  unmeasuredMs: a.unmeasuredMs + b.unmeasuredMs,
});
export const ZERO: Totals = { windowMs: 0, outageMs: 0, excludedMs: 0, unmeasuredMs: 0 };

/** Calendar months (UTC) overlapping [from, to), each clipped to it. */
export function months(span: Span): Span[] {
  const out: Span[] = [];
  const d = new Date(span.from);
  let s = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  while (s < span.to) {
    const m = new Date(s);
    const e = Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1);
    out.push({ from: Math.max(s, span.from), to: Math.min(e, span.to) });
    s = e;
  }
  return out;
}

/** The twelve calendar months before `to` (NEVI's "previous twelve months", 23 CFR 680.116(b)(2)). */
export function previousTwelveMonths(to: number): Span {
  const d = new Date(to);
  return {
    from: Date.UTC(d.getUTCFullYear() - 1, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()),
    to,
  };
}

/** How far back a regime's figures over `span` need outages: caps per year reach back to 1 January. */
export function lookback(name: RegimeName, span: Span): number {
  const regime = REGIME[name];
  let from = span.from;
  if (name === 'nevi') from = Math.min(from, previousTwelveMonths(span.to).from);
  const yearly = Object.values(regime.excluded).some((c) => c?.per === 'port_year');
  return yearly ? yearStart(from) : from;
}
