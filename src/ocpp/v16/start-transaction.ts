import type { HandlerContext } from '../connection.js';
import { checkConnectorId } from '../storable.js';
import { effectiveTime } from '../time.js';

interface StartTransactionReq {
  connectorId: number;
  idTag: string;
  meterStart: number;
  reservationId?: number;
  timestamp: string;
}

/** OCPP 1.6 §4.10: the transactionId is durable before the answer, and the same for a retried start. */
export async function startTransaction(ctx: HandlerContext, p: StartTransactionReq) {
  const receivedAt = new Date();
  const [started] = await ctx.submit([
    {
      type: 'SessionStarted',
      cp: ctx.conn.cp,
      connectorId: checkConnectorId('connectorId', p.connectorId),
      idTag: p.idTag,
      meterStartWh: p.meterStart,
      at: effectiveTime(p.timestamp, receivedAt),
      receivedAt,
    },
  ]);
  return { transactionId: Number(started!.transactionId), idTagInfo: { status: 'Accepted' } };
}
