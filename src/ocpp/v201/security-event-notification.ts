import type { HandlerContext } from '../connection.js';
import { effectiveTime } from '../time.js';

/** OCPP 2.0.1 A04: recorded as they come. */
export async function securityEventNotification(ctx: HandlerContext, p: { type: string; timestamp: string; techInfo?: string }) {
  const now = new Date();
  await ctx.submit([{ type: 'Noted', cp: ctx.conn.cp, kind: 'SecurityEvent', payload: p, at: effectiveTime(p.timestamp, now), receivedAt: now }]);
  return {};
}
