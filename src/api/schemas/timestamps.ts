import { Type } from 'typebox';
import type { App } from '../types.js';
import { wireInstant } from '../../instant.js';

export const Timestamp = Type.Unsafe<Date | string>({
  type: 'string',
  format: 'date-time',
  description: 'ISO 8601 date/time in UTC, whole seconds (2024-06-15T14:22:00Z)',
  examples: ['2024-06-15T14:22:00Z'],
});

/** Every Date anywhere in an answer, as an API timestamp; everything else as it was. */
function withApiTimestamps(v: unknown): unknown {
  if (v instanceof Date) return wireInstant(v);
  if (Array.isArray(v)) return v.map(withApiTimestamps);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = withApiTimestamps(x);
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
  app.addHook('preSerialization', async (_req, _reply, payload) => withApiTimestamps(payload));
}
