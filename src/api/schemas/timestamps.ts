import { Type } from 'typebox';
import type { App } from '../types.js';
import { wireInstant } from '../../instant.js';

export const Timestamp = Type.Unsafe<Date | string>({
  type: 'string',
  format: 'date-time',
  description: 'ISO 8601 date/time in UTC, whole seconds (2024-06-15T14:22:00Z)',
  examples: ['2024-06-15T14:22:00Z'],
});

/**
 * Every Date anywhere in an answer, as an API timestamp; everything else as it was. Formatting is
 * remembered per instant within one answer: bucketed answers repeat the same few instants for
 * every charger (31,000 dates in a daily month of 1,000 chargers, 31 distinct).
 */
function withApiTimestamps(v: unknown, formatted: Map<number, string>): unknown {
  if (v instanceof Date) {
    const ms = v.getTime();
    let s = formatted.get(ms);
    if (s === undefined) formatted.set(ms, (s = wireInstant(v)));
    return s;
  }
  if (Array.isArray(v)) return v.map((x) => withApiTimestamps(x, formatted));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    // for…in rather than Object.entries: no array per object (a third of the time of a large answer).
    for (const k in v) if (Object.hasOwn(v, k)) out[k] = withApiTimestamps((v as Record<string, unknown>)[k], formatted);
    return out;
  }
  return v;
}

/**
 * Serialises every answer with API timestamps: routes and the fleet queries
 * return Dates and never format one themselves. Registered once, before the
 * routes, so it holds for every route of the API.
 */
export function registerApiTimestamps(app: App): void {
  app.addHook('preSerialization', async (_req, _reply, payload) => withApiTimestamps(payload, new Map()));
}
