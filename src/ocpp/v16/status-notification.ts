import type { HandlerContext } from '../connection.js';
import { checkConnectorId } from '../storable.js';
import { effectiveTime, parseChargerTime } from '../time.js';

interface StatusNotificationReq {
  connectorId: number;
  errorCode: string;
  status: string;
  info?: string;
  timestamp?: string;
  vendorId?: string;
  vendorErrorCode?: string;
}

/** OCPP 1.6 §4.9: connector 0 is the charger itself. */
export async function statusNotification(ctx: HandlerContext, p: StatusNotificationReq) {
  const receivedAt = new Date();
  await ctx.submit([
    {
      type: 'StatusChanged',
      cp: ctx.conn.cp,
      connectorId: checkConnectorId('connectorId', p.connectorId),
      evseId: null,
      status: p.status,
      errorCode: p.errorCode,
      info: p.info ?? null,
      vendorId: p.vendorId ?? null,
      vendorErrorCode: p.vendorErrorCode ?? null,
      chargerTime: parseChargerTime(p.timestamp),
      at: effectiveTime(p.timestamp, receivedAt),
      receivedAt,
    },
  ]);
  return {};
}
