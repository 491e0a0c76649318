import { wireInstant } from '../../instant.js';
import type { ChargerUptime } from '../../fleet/uptime.js';
import { JsonBytes, jsonToken } from './json-bytes.js';

const T = {
  chargersStart: jsonToken(',"chargers":['),
  chargerStart: jsonToken('{"charge_point_id":'),
  site: jsonToken(',"site_id":'),
  percent: jsonToken(',"uptime_percent":'),
  down: jsonToken(',"downtime_minutes":'),
  excluded: jsonToken(',"excluded_downtime_minutes":'),
  window: jsonToken(',"window_minutes":'),
  objectEnd: jsonToken('}'),
  comma: jsonToken(','),
  end: jsonToken(']}'),
};

/** Bytes a charger takes, bar its two ids (a larger answer only grows the buffer once more). */
const CHARGER_BYTES = 150;

/**
 * The uptime answer as JSON, in the shape of the route's response schema: a fleet of 10,000 is a
 * 1.5 MB answer (JsonBytes says why it is written as bytes). test/fleet-answers.test.ts holds it to
 * that schema and to the direct computation.
 */
export function uptimeAnswer(period: { from: Date; to: Date }, chargers: ChargerUptime[]): Buffer {
  const out = new JsonBytes(chargers.length * (CHARGER_BYTES + 2 * 24) + 100);
  // The answer's head: the object of its small fields, left open for the chargers.
  out.raw(jsonToken(JSON.stringify({ period: { from: wireInstant(period.from), to: wireInstant(period.to) } }).slice(0, -1)));
  out.raw(T.chargersStart);
  chargers.forEach((c, i) => {
    if (i > 0) out.raw(T.comma);
    out.raw(T.chargerStart).string(c.charge_point_id);
    out.raw(T.site).string(c.site_id);
    out.raw(T.percent).number(c.uptime_percent);
    out.raw(T.down).number(c.downtime_minutes);
    out.raw(T.excluded).number(c.excluded_downtime_minutes);
    out.raw(T.window).number(c.window_minutes).raw(T.objectEnd);
  });
  return out.raw(T.end).bytes();
}
