import type { HandlerContext } from '../connection.js';

interface BootNotificationReq {
  chargePointVendor: string;
  chargePointModel: string;
  chargePointSerialNumber?: string;
  chargeBoxSerialNumber?: string;
  firmwareVersion?: string;
  iccid?: string;
  imsi?: string;
  meterType?: string;
  meterSerialNumber?: string;
}

/** OCPP 1.6 §4.2: always Accepted (the charger is registered, admission checked it); interval from config. */
export async function bootNotification(ctx: HandlerContext, p: BootNotificationReq) {
  const now = new Date();
  await ctx.submit([
    {
      type: 'Booted',
      cp: ctx.conn.cp,
      at: now,
      boot: {
        vendor: p.chargePointVendor,
        model: p.chargePointModel,
        serialNumber: p.chargePointSerialNumber,
        boxSerialNumber: p.chargeBoxSerialNumber,
        firmwareVersion: p.firmwareVersion,
        iccid: p.iccid,
        imsi: p.imsi,
        meterType: p.meterType,
        meterSerial: p.meterSerialNumber,
      },
    },
  ]);
  return { status: 'Accepted', currentTime: now.toISOString(), interval: ctx.heartbeatIntervalSec };
}
