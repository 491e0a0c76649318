/** A charger clock more than this far ahead of ours is not believed (DESIGN.md §3). */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;

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

export function parseChargerTime(value: string | undefined | null): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}
