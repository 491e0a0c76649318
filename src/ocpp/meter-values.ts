import type { MeterSample } from '../ingest/events.js';
import { effectiveTime } from './time.js';

/**
 * Measurands we keep (docs/ocpp.md "Meter values"): energy for sessions and
 * energy figures, power, current, voltage and state of charge for diagnosis.
 * Others are dropped and counted; SignedData values are not numbers and are dropped.
 */
export const KEPT_MEASURANDS = new Set([
  'Energy.Active.Import.Register',
  'Power.Active.Import',
  'Current.Import',
  'Voltage',
  'SoC',
]);

const DEFAULT_MEASURAND = 'Energy.Active.Import.Register';

export interface SampledValueLike {
  value: string | number;
  measurand?: string;
  phase?: string;
  context?: string;
  format?: string;
  /** 1.6 */
  unit?: string;
  /** 2.x */
  unitOfMeasure?: { unit?: string; multiplier?: number };
}

/** Energy to Wh and power to W, whatever unit and multiplier the charger used. */
function normalise(value: number, unit: string | undefined, multiplier = 0): { value: number; unit: string } {
  const scaled = value * 10 ** multiplier;
  switch (unit) {
    case 'kWh':
      return { value: scaled * 1000, unit: 'Wh' };
    case 'kW':
      return { value: scaled * 1000, unit: 'W' };
    case 'kvarh':
      return { value: scaled * 1000, unit: 'varh' };
    default:
      return { value: scaled, unit: unit ?? 'Wh' };
  }
}

export function toMeterSamples(
  meterValues: { timestamp: string; sampledValue: SampledValueLike[] }[],
  receivedAt: Date,
): { samples: MeterSample[]; dropped: number } {
  const samples: MeterSample[] = [];
  let dropped = 0;
  for (const mv of meterValues) {
    const at = effectiveTime(mv.timestamp, receivedAt);
    for (const sv of mv.sampledValue) {
      const measurand = sv.measurand ?? DEFAULT_MEASURAND;
      const raw = typeof sv.value === 'number' ? sv.value : Number(sv.value);
      if (!KEPT_MEASURANDS.has(measurand) || sv.format === 'SignedData' || !Number.isFinite(raw)) {
        dropped++;
        continue;
      }
      const defaultUnit = measurand === 'SoC' ? 'Percent' : measurand === 'Voltage' ? 'V' : measurand === 'Current.Import' ? 'A' : measurand.startsWith('Power') ? 'W' : 'Wh';
      const n = normalise(raw, sv.unit ?? sv.unitOfMeasure?.unit ?? defaultUnit, sv.unitOfMeasure?.multiplier);
      samples.push({ sampledAt: at, measurand, phase: sv.phase ?? null, value: n.value, unit: n.unit, context: sv.context ?? null });
    }
  }
  return { samples, dropped };
}
