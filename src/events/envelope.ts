import type { FleetEvent } from '../store/fleet-events.js';
import { wireInstant } from '../instant.js';

/** The envelope on the wire (docs/events.md): the JSON of an SSE message's data and of a webhook body. */
export const wireEvent = (e: FleetEvent) => ({ id: e.id, event: e.event, created_at: wireInstant(e.created_at), tenant_id: e.tenant_id, data: e.data });

const serialized = new WeakMap<FleetEvent, string>();

/**
 * The envelope's JSON, made once per event however many listeners it goes to: the feed hands the
 * same event object to every stream and webhook worker of this node.
 */
export function wireEventJson(e: FleetEvent): string {
  let json = serialized.get(e);
  if (json === undefined) serialized.set(e, (json = JSON.stringify(wireEvent(e))));
  return json;
}
