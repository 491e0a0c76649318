import type { Logger } from 'pino';
import { setTimeout as delay } from 'node:timers/promises';
import type { Queryable } from '../store/db.js';
import { Coalesced } from '../coalesced.js';

/** The channel every node's event feed listens on (PostgreSQL LISTEN/NOTIFY; src/store/functions/events.sql). */
export const FLEET_EVENTS_CHANNEL = 'dynamo_fleet_events';

/**
 * Wakes every node's event feed after an ingest batch that wrote events has committed. Ingest
 * batches do not NOTIFY inside their own transaction: a NOTIFY holds one database-wide lock from
 * its commit until that commit's WAL is flushed, so the commit lanes flushed one after another.
 * This NOTIFY is a small transaction of its own, sent after the commit and coalesced: one in flight
 * at a time, then at least `minIntervalMs` before the next, which carries every wake asked for
 * meanwhile. Each NOTIFY is a round trip from this node and a delivery to every listening node,
 * whose feed then reads: at 50,000 chargers the three nodes' feeds read 535 times a second
 * (docs/benchmarks.md "The event feed and its wake-ups without listeners"). Other nodes' listeners
 * hear of an event up to that interval (and a round trip) later;
 * this node's own feed is woken at once. A wake lost to a crash between the commit and this only
 * delays the other nodes' readers until their next poll.
 */
export class WakeNotifier {
  private readonly notify: Coalesced;
  /** Ends the wait between two NOTIFYs at shutdown. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Queryable,
    private readonly log: Logger,
    minIntervalMs: number,
  ) {
    this.notify = new Coalesced(
      async () => {
        await this.send();
        // Still "running" while it waits: the wakes asked for meanwhile become one NOTIFY after it.
        if (minIntervalMs > 0) await delay(minIntervalMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      },
      (err) => this.failed(err),
    );
  }

  wake(): void {
    this.notify.run();
  }

  /** Stops at once (not after the wait) and sends the wake still owed, so the last events are not left to a poll. */
  async stop(): Promise<void> {
    this.stopping.abort();
    // Read before stop(), which drops it: the aborted wait ends the run only after this line.
    const owed = this.notify.pending;
    await this.notify.stop();
    if (owed) await this.send().catch((err) => this.failed(err));
  }

  private failed(err: unknown): void {
    this.log.warn({ err }, 'could not wake the event feeds of the other nodes; they will poll');
  }

  private async send(): Promise<void> {
    await this.db.query(`SELECT pg_notify('${FLEET_EVENTS_CHANNEL}', '')`);
  }
}
