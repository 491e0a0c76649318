import type { HandlerContext } from '../connection.js';

/** OCPP 2.0.1 N01: the 2.x successor of 1.6 DiagnosticsStatusNotification. */
export async function logStatusNotification(ctx: HandlerContext, p: { status: string; requestId?: number }) {
  const now = new Date();
  await ctx.submit([{ type: 'DiagnosticsStatus', cp: ctx.conn.cp, status: p.status, at: now, receivedAt: now }]);
  return {};
}
