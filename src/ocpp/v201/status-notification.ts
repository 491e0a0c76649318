import type { HandlerContext } from '../connection.js';
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
 * reported as Charging. Faulted raises an error event (code "Faulted") unless a
 * problem is already open there; any other status resolves it.
 */
export async function statusNotification(ctx: HandlerContext, p: StatusNotificationReq) {
  const receivedAt = new Date();
  const at = effectiveTime(p.timestamp, receivedAt);
  const cp = ctx.conn.cp;
  const status = p.connectorStatus === 'Occupied' && ctx.conn.chargingEvses.has(p.evseId) ? 'Charging' : p.connectorStatus;
  const faulted = p.connectorStatus === 'Faulted';
  await Promise.all([
    ctx.submit({
      type: 'StatusChanged', cp, connectorId: p.evseId, evseId: p.evseId, status, errorCode: null, info: null,
      vendorId: null, vendorErrorCode: null, chargerTime: parseChargerTime(p.timestamp), at, receivedAt,
    }),
    faulted
      ? ctx.submit({ type: 'ErrorRaised', cp, connectorId: p.evseId, errorCode: 'Faulted', componentVariable: null, info: null, status: 'Faulted', source: 'status', unlessOpen: true, at, receivedAt })
      : ctx.submit({ type: 'ErrorCleared', cp, connectorId: p.evseId, errorCode: 'Faulted', componentVariable: null, source: 'status', at, receivedAt }),
  ]);
  return {};
}
