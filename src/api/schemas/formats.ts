import type { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';

// The instants every layer below can hold: JavaScript Dates, PostgreSQL timestamptz and the
// ISO 8601 text we answer with (four-digit years) all agree between these two.
const FIRST_INSTANT = new Date('0001-01-01T00:00:00Z').getTime();
const LAST_INSTANT = new Date('9999-12-31T23:59:59.999Z').getTime();

const rfc3339 = fullFormats['date-time'] as { validate: (s: string) => boolean; compare: (a: string, b: string) => number | undefined };

/**
 * RFC 3339 date-time with a zone, as ajv-formats checks it, and also an instant a Date can
 * hold inside years 0001–9999 once the offset is applied: a leap second (`23:59:60`, which
 * JavaScript cannot represent) or `9999-12-31T23:00:00-05:00` (year 10000 in UTC) is refused
 * at validation (400) instead of failing later in the database (500).
 */
export function isStorableDateTime(text: string): boolean {
  if (!rfc3339.validate(text)) return false;
  const t = Date.parse(text);
  return Number.isFinite(t) && t >= FIRST_INSTANT && t <= LAST_INSTANT;
}

/**
 * Adds the standard formats with a stricter `date-time`. Named `formatsPlugin` on purpose:
 * @fastify/ajv-compiler then knows the formats are added here and does not add ajv-formats
 * again over this `date-time`.
 */
export function formatsPlugin(ajv: Ajv): Ajv {
  addFormats.default(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime, compare: rfc3339.compare });
  return ajv;
}
