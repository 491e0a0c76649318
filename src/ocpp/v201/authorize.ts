import type { HandlerContext } from '../connection.js';

/** OCPP 2.0.1 C01: every token is Accepted and recorded (authorisation lists are not built yet). */
export async function authorize(ctx: HandlerContext, p: { idToken: { idToken: string; type: string } }) {
  const now = new Date();
  await ctx.submit([{ type: 'Noted', cp: ctx.conn.cp, kind: 'Authorize', payload: { idToken: p.idToken }, at: now, receivedAt: now }]);
  return { idTokenInfo: { status: 'Accepted' } };
}
