import type { HandlerContext } from '../connection.js';
import { checkConnectorId } from '../storable.js';
import { effectiveTime, parseChargerTime } from '../time.js';

interface StatusNotificationReq {
  timestamp: string;
  connectorStatus: string;
  evseId: number;
  connectorId: number;
}

/**
 * OCPP 2.0.1 G01. The API's connector_id is the EVSE id (docs/ocpp.md): an EVSE
 * is what a driver uses. Occupied while the EVSE's transaction is charging is
 * reported as Charging (decided in the database, from the session). Faulted raises
 * an error event (code "Faulted") unless a problem is already open there; any
 * other status resolves it.
 */
export async function statusNotification(ctx: HandlerContext, p: StatusNotificationReq) {
  const receivedAt = new Date();
  const at = effectiveTime(p.timestamp, receivedAt);
  const cp = ctx.conn.cp;
  const evse = checkConnectorId('evseId', p.evseId);
  checkConnectorId('connectorId', p.connectorId);
  await ctx.submit([
    {
      type: 'StatusChanged', cp, connectorId: evse, evseId: evse, status: p.connectorStatus, errorCode: null, info: null,
      vendorId: null, vendorErrorCode: null, chargerTime: parseChargerTime(p.timestamp), at, receivedAt, chargingWhenOccupied: true,
    },
    p.connectorStatus === 'Faulted'
      ? { type: 'ErrorRaised', cp, connectorId: evse, errorCode: 'Faulted', componentVariable: null, info: null, status: 'Faulted', source: 'status', unlessOpen: true, at, receivedAt }
      : { type: 'ErrorCleared', cp, connectorId: evse, errorCode: 'Faulted', componentVariable: null, source: 'status', at, receivedAt },
  ]);
  return {};
}
