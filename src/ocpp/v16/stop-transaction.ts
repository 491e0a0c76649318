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
 */
export async function stopTransaction(ctx: HandlerContext, p: StopTransactionReq) {
  const receivedAt = new Date();
  const transactionId = String(p.transactionId);
  const { samples } = toMeterSamples(p.transactionData ?? [], receivedAt);
  // Submitted together: same lane, so the samples are stored before the session ends, in one commit.
  const stored = samples.length
    ? ctx.submit({ type: 'MeterSampled', cp: ctx.conn.cp, connectorId: null, transactionId, samples, receivedAt })
    : undefined;
  const ended = ctx.submit({
    type: 'SessionEnded',
    cp: ctx.conn.cp,
    transactionId,
    meterStopWh: p.meterStop,
    reason: p.reason ?? 'Local',
    at: effectiveTime(p.timestamp, receivedAt),
    receivedAt,
  });
  await Promise.all([stored, ended]);
  return p.idTag ? { idTagInfo: { status: 'Accepted' } } : {};
}
