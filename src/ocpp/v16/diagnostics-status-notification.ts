import type { HandlerContext } from '../connection.js';

/** OCPP 1.6 §4.4. */
export async function diagnosticsStatusNotification(ctx: HandlerContext, p: { status: string }) {
  const now = new Date();
  await ctx.submit([{ type: 'DiagnosticsStatus', cp: ctx.conn.cp, status: p.status, at: now, receivedAt: now }]);
  return {};
}
