import type { Logger } from 'pino';
import type { Queryable } from '../store/db.js';
import { pruneFleetEvents } from '../store/fleet-events.js';

const CHUNK = 5000;

/**
 * Drops fleet events past retention, off the ingest path: small deletes from the old end of the
 * log, one after another, so no statement holds locks or a transaction for long.
 */
export class EventRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly log: Logger,
    private readonly retentionDays: number,
    private readonly everyMs = 3_600_000,
    /** Events per delete. */
    private readonly chunk = CHUNK,
  ) {}

  start(): void {
    const tick = () => void (this.running ??= this.pruneNow().then(() => undefined).finally(() => (this.running = undefined)));
    tick();
    this.timer = setInterval(tick, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Deletes every event older than retention; returns how many. */
  async pruneNow(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.retentionDays * 86_400_000);
    let total = 0;
    try {
      for (;;) {
        const n = await pruneFleetEvents(this.db, before, this.chunk);
        total += n;
        if (n < this.chunk) break;
      }
      if (total) this.log.info({ deleted: total, before }, 'event log: pruned events past retention');
    } catch (err) {
      this.log.warn({ err }, 'event log: pruning failed; retrying at the next run');
    }
    return total;
  }
}
