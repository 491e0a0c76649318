import type { HandlerContext } from './connection.js';

/** OCPP 1.6 §4.6 and 2.0.1 G02: the same on every version. Coalesced: answered at once, last_heartbeat written within seconds. */
export async function heartbeat(ctx: HandlerContext) {
  const now = new Date();
  ctx.heartbeat(now);
  return { currentTime: now.toISOString() };
}
