import type { HandlerContext } from './connection.js';

/** OCPP 1.6 §4.5 and 2.0.1 L01 (status; 2.x adds requestId). */
export async function firmwareStatusNotification(ctx: HandlerContext, p: { status: string }) {
  const now = new Date();
  await ctx.submit([{ type: 'FirmwareStatus', cp: ctx.conn.cp, status: p.status, at: now, receivedAt: now }]);
  return {};
}
