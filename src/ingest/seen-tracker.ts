import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { touchChargers } from '../store/history/charger-state.js';
import { touchConnections } from '../store/history/connections.js';

/** The connection a charger was heard on; its id may be known only after the Connected event commits. */
export interface HeardOn {
  readonly cp: string;
  readonly connectionId: number;
}

interface Seen {
  on: HeardOn;
  seenAt: number;
  heartbeatAt: number | null;
}

/**
 * Heartbeats and "last heard" are coalesced (DESIGN.md §4): kept in memory and
 * written in a few set-based statements every `intervalMs`, so a Heartbeat
 * is answered without a database round trip and last_heartbeat is at most one
 * interval stale.
 */
export class SeenTracker {
  private dirty = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly intervalMs = 4_000,
    private readonly chunk = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(true), this.intervalMs);
    this.timer.unref();
  }

  seen(on: HeardOn, at: number, isHeartbeat = false): void {
    const cur = this.dirty.get(on.cp);
    if (cur) {
      cur.on = on;
      cur.seenAt = Math.max(cur.seenAt, at);
      if (isHeartbeat) cur.heartbeatAt = Math.max(cur.heartbeatAt ?? 0, at);
    } else {
      this.dirty.set(on.cp, { on, seenAt: at, heartbeatAt: isHeartbeat ? at : null });
    }
  }

  /** Writes what is dirty now; `paced` spreads the chunks over half an interval (the timer's flushes). */
  flush(paced = false): Promise<void> {
    this.flushing = this.flushing.then(() => this.write(paced));
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(paced: boolean): Promise<void> {
    if (this.dirty.size === 0) return;
    const batch = this.dirty;
    this.dirty = new Map();
    const entries = [...batch.entries()];
    // Paced: written back to back, a busy fleet's chunks made a burst of database work every interval
    // that the ingest batches queued behind (the p99 at half rate, docs/benchmarks.md). Spread over half
    // the interval, a last-seen time is written at most 1.5 intervals after it was heard (one interval
    // more each time an ingest batch held its row: a skipped row is written at the next flush).
    const gap = paced ? this.intervalMs / 2 / Math.ceil(entries.length / this.chunk) : 0;
    try {
      // In chunks: short statements hold their row locks briefly, so ingest never waits long behind them.
      for (let i = 0; i < entries.length; i += this.chunk) {
        if (i > 0 && gap > 0) await new Promise((r) => setTimeout(r, gap));
        const part = entries.slice(i, i + this.chunk);
        const rows = part.map(([, r]) => r);
        const busyChargers = new Set(await touchChargers(this.db, part.map(([cp]) => cp), rows.map((r) => new Date(r.seenAt)), rows.map((r) => (r.heartbeatAt ? new Date(r.heartbeatAt) : null))));
        const known = rows.filter((r) => r.on.connectionId > 0);
        const busyConnections = new Set(await touchConnections(this.db, known.map((r) => r.on.connectionId), known.map((r) => new Date(r.seenAt))));
        // Rows an ingest batch held: written at the next flush (touch is idempotent, times only move forward).
        this.requeue(part.filter(([cp, r]) => busyChargers.has(cp) || busyConnections.has(r.on.connectionId)));
      }
    } catch (err) {
      this.log.warn({ err }, 'could not record last-seen times; retrying on the next flush');
      this.requeue(batch);
    }
  }

  /** Puts entries back for the next flush, unless the charger was heard again meanwhile (that entry is newer). */
  private requeue(entries: Iterable<[string, Seen]>): void {
    for (const [cp, s] of entries) if (!this.dirty.has(cp)) this.dirty.set(cp, s);
  }
}
