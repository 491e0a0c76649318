import type { HandlerContext } from '../connection.js';
import { checkConnectorId } from '../storable.js';
import { toMeterSamples, type SampledValueLike } from '../meter-values.js';

interface MeterValuesReq {
  connectorId: number;
  transactionId?: number;
  meterValue: { timestamp: string; sampledValue: SampledValueLike[] }[];
}

/** OCPP 1.6 §4.7. Samples for an unknown transaction are stored without a session and noted. */
export async function meterValues(ctx: HandlerContext, p: MeterValuesReq) {
  const receivedAt = new Date();
  const { samples, dropped } = toMeterSamples(p.meterValue, receivedAt);
  ctx.droppedSamples(dropped);
  await ctx.submit([
    {
      type: 'MeterSampled',
      cp: ctx.conn.cp,
      connectorId: checkConnectorId('connectorId', p.connectorId),
      transactionId: p.transactionId === undefined ? null : String(p.transactionId),
      samples,
      receivedAt,
    },
  ]);
  return {};
}
