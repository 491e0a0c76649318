import type { HandlerContext } from './connection.js';

/** OCPP 1.6 §4.3 and 2.0.1 P01 (same shape). Recorded; no vendor extension is known to us, so the answer says so (UnknownVendorId). */
export async function dataTransfer(ctx: HandlerContext, p: { vendorId: string; messageId?: string; data?: string }) {
  const now = new Date();
  await ctx.submit([{ type: 'Noted', cp: ctx.conn.cp, kind: 'DataTransfer', payload: p, at: now, receivedAt: now }]);
  return { status: 'UnknownVendorId' };
}
