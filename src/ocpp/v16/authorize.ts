import type { HandlerContext } from '../connection.js';

/**
 * OCPP 1.6 §4.1. Every idTag is Accepted and recorded: authorisation lists and
 * remote token checks are not built yet (docs/ocpp.md).
 */
export async function authorize(ctx: HandlerContext, p: { idTag: string }) {
  const now = new Date();
  await ctx.submit([{ type: 'Noted', cp: ctx.conn.cp, kind: 'Authorize', payload: { idTag: p.idTag }, at: now, receivedAt: now }]);
  return { idTagInfo: { status: 'Accepted' } };
}
