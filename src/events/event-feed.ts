import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Queryable } from '../store/db.js';
import { fleetEventsHead, readFeedPage, type FleetEvent, type FleetEventRow } from '../store/fleet-events.js';
import { Coalesced } from '../coalesced.js';

/** What one listener wants: its tenant, optional filters. */
export interface FeedFilter {
  tenantId: string;
  events?: readonly string[];
  siteId?: string;
  chargePointId?: string;
}

export interface FeedSubscription {
  /** Stops delivery; idempotent. */
  close(): void;
}

interface Subscriber {
  filter: FeedFilter;
  deliver: (events: FleetEvent[]) => void;
}

export interface EventFeedOptions {
  /** Reads new events even without a wake-up: a lost wake-up only delays by this much. */
  pollIntervalMs: number;
  /** Events read per query. */
  pageSize: number;
}

/**
 * This node's reader of the durable event log (migration 0008). While it has listeners, one query
 * per wake-up reads what is new for every tenant, then fans it out in memory to them (SSE clients,
 * webhook workers), so twenty clients cost one query, not twenty; without listeners it reads
 * nothing. Wake-ups come from this node's commits, from other nodes (PostgreSQL NOTIFY) and from a
 * slow poll; any of them may be lost or repeated, the log decides what is new.
 */
/** How soon to look again while events are held back by a running transaction (doubling between). */
const HELD_BACK_MIN_MS = 50;
const HELD_BACK_MAX_MS = 500;

/** The feed could not bring its position up to the log's head for a new listener. */
export class EventFeedBehindError extends Error {
  override readonly name = 'EventFeedBehindError';
}

export class EventFeed {
  private cursor = '0';
  private readonly subscribers = new Set<Subscriber>();
  /**
   * Wake-ups skipped because nobody listened (each may have announced events): while it moves, the
   * position is behind the log, and a listener waits (ready()) for it to be brought to the head.
   */
  private skipped = 0;
  /** The value of `skipped` the position was last brought up to date for. */
  private freshAt = 0;
  private readonly reader: Coalesced;
  private timer: NodeJS.Timeout | undefined;
  private heldBackTimer: NodeJS.Timeout | undefined;
  private heldBackMs = 0;
  private stopped = false;
  private readonly read: Counter;

  constructor(
    private readonly db: Queryable,
    private readonly log: Logger,
    metrics: Registry,
    private readonly opts: EventFeedOptions,
  ) {
    this.reader = new Coalesced(
      () => this.readNew(),
      (err) => this.log.warn({ err }, 'event feed: read failed; retrying on the next wake-up'),
    );
    this.read = new Counter({
      name: 'dynamo_events_written_total',
      help: 'Fleet events written to the durable log (by any node), counted as this node reads them: only while it has a listener (a stream or a webhook endpoint)',
      registers: [metrics],
    });
  }

  /** Starts after the events already in the log: listeners catch up on their own. */
  async start(): Promise<void> {
    this.cursor = await fleetEventsHead(this.db);
    this.timer = setInterval(() => this.wake(), this.opts.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.heldBackTimer);
    this.subscribers.clear();
    await this.reader.stop();
  }

  /** The position up to which this feed has read: a listener that has caught up to it is live. */
  get position(): string {
    return this.cursor;
  }

  get listeners(): number {
    return this.subscribers.size;
  }

  /**
   * Something may be new: read it (coalesced; at most one read in flight). With nobody listening
   * nothing is read, not even the log's head: at 50,000 chargers every node's feed was woken by
   * every commit that wrote an event, 535 reads a second for no one (docs/benchmarks.md "The event
   * feed and its wake-ups without listeners").
   */
  wake(): void {
    if (this.subscribers.size === 0) {
      this.skipped++;
      return;
    }
    this.reader.run();
  }

  /**
   * Resolves once the position is as fresh as a feed that never stopped reading: a new listener
   * awaits it after subscribing and before it takes the position or reads the log to catch up.
   * Rejects (EventFeedBehindError) when the log's head could not be read: a listener that went on
   * from the old position would have the events between it and the head skipped by the next read.
   */
  async ready(): Promise<void> {
    if (this.freshAt === this.skipped) return;
    await this.reader.settled();
    if (!this.stopped && this.freshAt !== this.skipped) throw new EventFeedBehindError('the event log could not be read; try again');
  }

  /** Every event after the feed's position that matches, as it is read. */
  subscribe(filter: FeedFilter, deliver: (events: FleetEvent[]) => void): FeedSubscription {
    const s: Subscriber = { filter, deliver };
    this.subscribers.add(s);
    return { close: () => void this.subscribers.delete(s) };
  }

  private async readNew(): Promise<void> {
    if (this.freshAt !== this.skipped) {
      // Behind after reads skipped for want of listeners: the position moves to the last readable
      // event, one row, which is where reading every event would have brought it.
      const skipped = this.skipped;
      const head = await fleetEventsHead(this.db);
      if (this.stopped) return;
      if (BigInt(head) > BigInt(this.cursor)) this.cursor = head;
      this.freshAt = skipped;
      this.heldBackMs = 0;
    }
    if (this.subscribers.size === 0) return;
    for (;;) {
      const { rows, heldBack } = await readFeedPage(this.db, this.cursor, this.opts.pageSize);
      if (this.stopped) return;
      if (rows.length > 0) {
        this.cursor = rows.at(-1)!.id;
        this.read.inc(rows.length);
        // One object per event, shared by every listener (what is made of it is made once: sse-frames.ts).
        for (const s of this.subscribers) {
          const mine = rows.filter((r) => matches(s.filter, r));
          if (mine.length) s.deliver(mine);
        }
        if (rows.length === this.opts.pageSize) continue;
      }
      // Caught up to the horizon. Events past it (a transaction still running somewhere on the
      // server holds it back) were announced already and will not be again: look again soon,
      // rather than at the next poll.
      if (heldBack) this.lookAgainSoon();
      else this.heldBackMs = 0;
      return;
    }
  }

  private lookAgainSoon(): void {
    if (this.heldBackTimer || this.stopped) return;
    this.heldBackMs = Math.min(HELD_BACK_MAX_MS, Math.max(HELD_BACK_MIN_MS, this.heldBackMs * 2));
    this.heldBackTimer = setTimeout(() => {
      this.heldBackTimer = undefined;
      this.wake();
    }, this.heldBackMs);
    this.heldBackTimer.unref();
  }
}

function matches(f: FeedFilter, r: FleetEventRow): boolean {
  return (
    r.tenant_id === f.tenantId &&
    (!f.events?.length || f.events.includes(r.event)) &&
    (!f.siteId || r.site_id === f.siteId) &&
    (!f.chargePointId || r.charge_point_id === f.chargePointId)
  );
}
