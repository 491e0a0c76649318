import type { HandlerContext } from '../connection.js';

interface BootNotificationReq {
  reason: string;
  chargingStation: {
    vendorName: string;
    model: string;
    serialNumber?: string;
    firmwareVersion?: string;
    modem?: { iccid?: string; imsi?: string };
  };
}

/** OCPP 2.0.1 B01: Accepted, with the configured heartbeat interval. */
export async function bootNotification(ctx: HandlerContext, p: BootNotificationReq) {
  const now = new Date();
  const cs = p.chargingStation;
  await ctx.submit([
    {
      type: 'Booted',
      cp: ctx.conn.cp,
      at: now,
      boot: {
        vendor: cs.vendorName,
        model: cs.model,
        serialNumber: cs.serialNumber,
        firmwareVersion: cs.firmwareVersion,
        iccid: cs.modem?.iccid,
        imsi: cs.modem?.imsi,
      },
    },
  ]);
  return { currentTime: now.toISOString(), interval: ctx.heartbeatIntervalSec, status: 'Accepted' };
}
