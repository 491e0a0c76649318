import { RPCPropertyConstraintViolationError } from './ocpp-rpc-cjs.js';

/** A charger clock more than this far ahead of ours is not believed (DESIGN.md §3). */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;

// Years PostgreSQL's timestamptz and ISO 8601 without an expanded year both hold.
const FIRST_YEAR = 1;
const LAST_YEAR = 9999;

/**
 * The time an event took effect: the charger's timestamp, unless absent,
 * unparseable or implausibly far in the future, then our receive time.
 * Timestamps in the past are believed: chargers replay messages queued offline.
 */
export function effectiveTime(chargerTime: string | undefined | null, receivedAt: Date): Date {
  const parsed = parseChargerTime(chargerTime);
  if (!parsed || parsed.getTime() > receivedAt.getTime() + MAX_CLOCK_AHEAD_MS) return receivedAt;
  return parsed;
}

/**
 * A charger timestamp, or null if absent or unparseable (a leap second, 23:59:60, is
 * unparseable here and so falls back to the receive time). A timestamp outside the
 * years 1–9999 can never be stored and is refused with PropertyConstraintViolation.
 */
export function parseChargerTime(value: string | undefined | null): Date | null {
  if (!value) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  const year = d.getUTCFullYear();
  if (year < FIRST_YEAR || year > LAST_YEAR) throw new RPCPropertyConstraintViolationError(`timestamp ${value} is outside the years ${FIRST_YEAR}–${LAST_YEAR}`);
  return d;
}
