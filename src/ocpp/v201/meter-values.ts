import type { HandlerContext } from '../connection.js';
import { checkConnectorId } from '../storable.js';
import { toMeterSamples, type SampledValueLike } from '../meter-values.js';

/** OCPP 2.0.1 J01: samples outside a transaction (transaction samples come in TransactionEvent). */
export async function meterValues(ctx: HandlerContext, p: { evseId: number; meterValue: { timestamp: string; sampledValue: SampledValueLike[] }[] }) {
  const receivedAt = new Date();
  const { samples, dropped } = toMeterSamples(p.meterValue, receivedAt);
  ctx.droppedSamples(dropped);
  await ctx.submit([{ type: 'MeterSampled', cp: ctx.conn.cp, connectorId: checkConnectorId('evseId', p.evseId), transactionId: null, samples, receivedAt }]);
  return {};
}
