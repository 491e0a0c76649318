import type { ChargerEvent } from '../../ingest/events.js';
import type { HandlerContext } from '../connection.js';
import { effectiveTime } from '../time.js';

interface EventData {
  eventId: number;
  timestamp: string;
  trigger: 'Alerting' | 'Delta' | 'Periodic';
  actualValue: string;
  techCode?: string;
  techInfo?: string;
  cleared?: boolean;
  component: { name: string; evse?: { id: number; connectorId?: number } };
  variable: { name: string };
}

/**
 * OCPP 2.0.1 N07 (docs/metrics.md, error events): an event raises a problem when
 * its variable is Problem and its value true, or when a monitor alerts
 * (trigger Alerting) without `cleared`; it clears on Problem false or `cleared`.
 * error_code is the techCode when present, else Component.Variable. Other
 * events (Delta, Periodic reports of ordinary variables) carry no error.
 */
export async function notifyEvent(ctx: HandlerContext, p: { generatedAt: string; seqNo: number; eventData: EventData[] }) {
  const receivedAt = new Date();
  const events: ChargerEvent[] = [];
  for (const d of p.eventData) {
    const componentVariable = `${d.component.name}.${d.variable.name}`;
    const isProblem = d.variable.name === 'Problem';
    const raised = !d.cleared && ((isProblem && d.actualValue.toLowerCase() === 'true') || (!isProblem && d.trigger === 'Alerting'));
    const cleared = d.cleared === true || (isProblem && d.actualValue.toLowerCase() === 'false');
    const base = { cp: ctx.conn.cp, connectorId: d.component.evse?.id ?? 0, componentVariable, source: 'notify' as const, at: effectiveTime(d.timestamp, receivedAt), receivedAt };
    if (raised) events.push({ type: 'ErrorRaised', ...base, errorCode: d.techCode ?? componentVariable, info: d.techInfo ?? null, status: null });
    else if (cleared) events.push({ type: 'ErrorCleared', ...base, errorCode: d.techCode ?? null });
  }
  await Promise.all(events.map((e) => ctx.submit(e)));
  return {};
}
