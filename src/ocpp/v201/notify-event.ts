import type { ChargerEvent } from '../../ingest/events.js';
import type { HandlerContext } from '../connection.js';
import { checkConnectorId } from '../storable.js';
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
 * A problem of the station itself (a component with no EVSE) faults the whole
 * charger: connector 0 becomes Faulted until it clears, as a 1.6 charger's
 * connector 0 would report (DESIGN.md §3 "down").
 */
export async function notifyEvent(ctx: HandlerContext, p: { generatedAt: string; seqNo: number; eventData: EventData[] }) {
  const receivedAt = new Date();
  const events: ChargerEvent[] = [];
  for (const d of p.eventData) {
    const componentVariable = `${d.component.name}.${d.variable.name}`;
    const isProblem = d.variable.name === 'Problem';
    const raised = !d.cleared && ((isProblem && d.actualValue.toLowerCase() === 'true') || (!isProblem && d.trigger === 'Alerting'));
    const cleared = d.cleared === true || (isProblem && d.actualValue.toLowerCase() === 'false');
    const at = effectiveTime(d.timestamp, receivedAt);
    const stationLevel = !d.component.evse;
    const base = { cp: ctx.conn.cp, connectorId: checkConnectorId('component.evse.id', d.component.evse?.id ?? 0), componentVariable, source: 'notify' as const, at, receivedAt };
    if (raised) events.push({ type: 'ErrorRaised', ...base, errorCode: d.techCode ?? componentVariable, info: d.techInfo ?? null, status: stationLevel ? 'Faulted' : null });
    else if (cleared) events.push({ type: 'ErrorCleared', ...base, errorCode: d.techCode ?? null });
    if (stationLevel && (raised || cleared)) {
      events.push({
        type: 'StatusChanged', cp: ctx.conn.cp, connectorId: 0, evseId: null, status: raised ? 'Faulted' : 'Available', errorCode: null,
        info: null, vendorId: null, vendorErrorCode: null, chargerTime: at, at, receivedAt,
      });
    }
  }
  await ctx.submit(events);
  return {};
}
