import { wireInstant } from '../../instant.js';
import { utilisationPercent, wholeMinutes, type Granularity, type UtilisationGrid } from '../../fleet/utilisation.js';
import { JsonBytes, jsonToken } from './json-bytes.js';

const T = {
  chargersStart: jsonToken(',"chargers":['),
  chargerStart: jsonToken('{"charge_point_id":'),
  bucketsStart: jsonToken(',"buckets":['),
  periodStart: jsonToken('{"period_start":'),
  percent: jsonToken(',"utilisation_percent":'),
  charging: jsonToken(',"charging_minutes":'),
  online: jsonToken(',"online_minutes":'),
  objectEnd: jsonToken('}'),
  comma: jsonToken(','),
  /** Closes an array and the object holding it: a charger's buckets, or the answer's chargers. */
  arrayAndObjectEnd: jsonToken(']}'),
};

/** Bytes a bucket takes, its comma included (112 for a utilisation of one decimal; a larger answer grows the buffer once). */
const BUCKET_BYTES = 116;

/**
 * The utilisation answer as JSON, written from the grid's columns in the shape of the route's
 * response schema; each bucket start is formatted once for the whole answer.
 * test/fleet-answers.test.ts holds it to that schema and to the objects the direct computation gives.
 */
export function utilisationAnswer(period: { from: Date; to: Date }, granularity: Granularity, grid: UtilisationGrid): Buffer {
  const starts = grid.starts.map((s) => jsonToken(JSON.stringify(wireInstant(s))));
  const n = starts.length;
  const out = new JsonBytes(grid.chargers.length * (n * BUCKET_BYTES + 80) + 200);
  // The answer's head: the object of its small fields, left open for the chargers.
  out.raw(jsonToken(JSON.stringify({ period: { from: wireInstant(period.from), to: wireInstant(period.to) }, granularity }).slice(0, -1)));
  out.raw(T.chargersStart);
  grid.chargers.forEach((cp, c) => {
    if (c > 0) out.raw(T.comma);
    out.raw(T.chargerStart).string(cp).raw(T.bucketsStart);
    for (let b = 0; b < n; b++) {
      const [onlineS, chargingS] = [grid.onlineS[c * n + b]!, grid.chargingS[c * n + b]!];
      if (b > 0) out.raw(T.comma);
      out.raw(T.periodStart).raw(starts[b]!);
      out.raw(T.percent).number(utilisationPercent(onlineS, chargingS));
      out.raw(T.charging).number(wholeMinutes(chargingS));
      out.raw(T.online).number(wholeMinutes(onlineS)).raw(T.objectEnd);
    }
    out.raw(T.arrayAndObjectEnd);
  });
  return out.raw(T.arrayAndObjectEnd).bytes();
}
