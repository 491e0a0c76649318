import type { FleetEvent } from '../store/fleet-events.js';
import { wireInstant } from '../instant.js';

/** The envelope on the wire (docs/events.md): the JSON of an SSE message's data and of a webhook body. */
export const wireEvent = (e: FleetEvent) => ({ id: e.id, event: e.event, created_at: wireInstant(e.created_at), tenant_id: e.tenant_id, data: e.data });
