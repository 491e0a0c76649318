/**
 * The connectivity strip of a charger, built from its history endpoints: online and offline
 * from the connect/disconnect events (GET …/connectivity), faulted from the error events
 * (GET …/error-history) that overlap an online stretch. Pure, so it is tested without a browser.
 */
export type StripState = 'online' | 'offline' | 'faulted' | 'unknown';

export interface Segment {
  start: number;
  end: number;
  state: StripState;
}

export interface StripInput {
  from: number;
  to: number;
  /** The charger did not exist before this: nothing is drawn there. */
  registeredAt?: number;
  /** Connect and disconnect events inside [from, to), in time order. */
  events: { type: string; timestamp: string }[];
  /** The events stopped at the page limit: after the last one the state is unknown. */
  truncated: boolean;
  /** Whether the charger is online now (for a period without any event). */
  onlineNow: boolean;
  /** Error intervals; end null while unresolved. */
  faults: { start: number; end: number | null }[];
}

export function buildStrip(i: StripInput): Segment[] {
  const start = Math.max(i.from, i.registeredAt ?? i.from);
  if (start >= i.to) return [];
  // Online stretches: the state before the first event is the opposite of what it reports.
  const online: [number, number][] = [];
  let up = i.events.length ? i.events[0]!.type !== 'connected' : i.onlineNow;
  let since = start;
  for (const e of i.events) {
    const t = Math.min(i.to, Math.max(start, Date.parse(e.timestamp)));
    if (e.type === 'connected' && !up) {
      up = true;
      since = t;
    } else if (e.type === 'disconnected' && up) {
      if (t > since) online.push([since, t]);
      up = false;
      since = t;
    }
  }
  const knownUntil = i.truncated && i.events.length ? Math.min(i.to, Date.parse(i.events[i.events.length - 1]!.timestamp)) : i.to;
  if (up && knownUntil > since) online.push([since, knownUntil]);

  // Sweep over every boundary; each elementary stretch gets one state.
  const cuts = new Set<number>([start, knownUntil, i.to]);
  for (const [a, b] of online) cuts.add(a).add(b);
  for (const f of i.faults) {
    const a = Math.max(start, f.start);
    const b = Math.min(i.to, f.end ?? i.to);
    if (a < b) cuts.add(a).add(b);
  }
  const points = [...cuts].filter((t) => t >= start && t <= i.to).sort((a, b) => a - b);
  const segments: Segment[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k]!;
    const b = points[k + 1]!;
    const mid = (a + b) / 2;
    let state: StripState;
    if (mid >= knownUntil) state = 'unknown';
    else if (!online.some(([x, y]) => mid >= x && mid < y)) state = 'offline';
    else if (i.faults.some((f) => mid >= f.start && mid < (f.end ?? Infinity))) state = 'faulted';
    else state = 'online';
    const last = segments[segments.length - 1];
    if (last && last.state === state && last.end === a) last.end = b;
    else segments.push({ start: a, end: b, state });
  }
  return segments;
}

/** Milliseconds per state inside [from, to), for the summary beside the strip. */
export function totals(segments: Segment[], from: number, to: number): Record<StripState, number> {
  const t: Record<StripState, number> = { online: 0, offline: 0, faulted: 0, unknown: 0 };
  for (const s of segments) {
    const a = Math.max(from, s.start);
    const b = Math.min(to, s.end);
    if (b > a) t[s.state] += b - a;
  }
  return t;
}
