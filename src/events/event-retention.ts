import type { Logger } from 'pino';
import type { Queryable } from '../store/db.js';
import { pruneFleetEvents } from '../store/fleet-events.js';
import { RetentionKeeper } from '../store/retention-keeper.js';

/** Drops fleet events past retention (DYNAMO_EVENTS_RETENTION_DAYS), from the old end of the log. */
export class EventRetention extends RetentionKeeper {
  constructor(db: Queryable, log: Logger, retentionDays: number, everyMs = 3_600_000, chunk = 5000) {
    super(log, { what: 'event log', retentionDays, everyMs, chunk, prune: (before, n) => pruneFleetEvents(db, before, n) });
  }
}
