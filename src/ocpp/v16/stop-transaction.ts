import type { ChargerEvent } from '../../ingest/events.js';
import type { HandlerContext } from '../connection.js';
import { effectiveTime } from '../time.js';
import { toMeterSamples, type SampledValueLike } from '../meter-values.js';

interface StopTransactionReq {
  transactionId: number;
  meterStop: number;
  timestamp: string;
  idTag?: string;
  reason?: string;
  transactionData?: { timestamp: string; sampledValue: SampledValueLike[] }[];
}

/**
 * OCPP 1.6 §4.11. A stop for a transaction we never saw is recorded and
 * answered normally: refusing it would make the charger retry it forever.
 * The samples and the end are one message: they commit together or not at all.
 */
export async function stopTransaction(ctx: HandlerContext, p: StopTransactionReq) {
  const receivedAt = new Date();
  const cp = ctx.conn.cp;
  const transactionId = String(p.transactionId);
  const { samples, dropped } = toMeterSamples(p.transactionData ?? [], receivedAt);
  ctx.droppedSamples(dropped);
  const events: ChargerEvent[] = [];
  if (samples.length) events.push({ type: 'MeterSampled', cp, connectorId: null, transactionId, samples, receivedAt });
  events.push({
    type: 'SessionEnded',
    cp,
    transactionId,
    meterStopWh: p.meterStop,
    reason: p.reason ?? 'Local',
    at: effectiveTime(p.timestamp, receivedAt),
    receivedAt,
  });
  await ctx.submit(events);
  return p.idTag ? { idTagInfo: { status: 'Accepted' } } : {};
}
