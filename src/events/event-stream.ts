import { setTimeout as delay } from 'node:timers/promises';
import type { Queryable } from '../store/db.js';
import { readFleetEvents, type FleetEvent } from '../store/fleet-events.js';
import type { EventFeed, FeedFilter } from './event-feed.js';

export interface StreamOptions {
  /** Start after this event id; undefined starts at the live position (only new events). */
  after?: string;
  /** Events a slow client may have waiting before it is cut off (it reconnects and catches up from the log). */
  maxQueued: number;
  pageSize: number;
  /**
   * Live events are gathered this long after the first arrives and yielded together: one write
   * per client per moment instead of one per committed ingest batch (hundreds a second under load,
   * and each write to a socket costs more than the events in it). 0 or absent: as they come.
   */
  lingerMs?: number;
  /**
   * Called once the stream's starting position is fixed, before anything is read: from then on
   * every event committed is delivered. A live stream says it is open only then (its headers):
   * an event committed before that moment may or may not be in it.
   */
  onLive?: () => void;
}

export class StreamOverflowError extends Error {
  override readonly name = 'StreamOverflowError';
}

/**
 * One listener's events, in log order, exactly once: first what the log holds after `after`
 * (catch-up, read by this listener), then the feed's live events. It joins the feed before
 * catching up and drops what it has already sent, so nothing falls between the two.
 */
export async function* fleetEventStream(
  db: Queryable,
  feed: EventFeed,
  filter: FeedFilter,
  opts: StreamOptions,
  signal: AbortSignal,
): AsyncGenerator<FleetEvent> {
  for await (const batch of fleetEventBatches(db, feed, filter, opts, signal)) {
    for (const e of batch) {
      if (signal.aborted) return;
      yield e;
    }
  }
}

/**
 * The same events as fleetEventStream, as they come: a page of the log, or what one read of the
 * feed brought. A listener that writes to a socket writes a batch at once (one write, not one
 * per event: with tens of streams open, per-event writes cost more than everything else).
 */
export async function* fleetEventBatches(
  db: Queryable,
  feed: EventFeed,
  filter: FeedFilter,
  opts: StreamOptions,
  signal: AbortSignal,
): AsyncGenerator<FleetEvent[]> {
  let queued: FleetEvent[] = [];
  let wakeUp: (() => void) | null = null;
  let overflow = false;
  const sub = feed.subscribe(filter, (events) => {
    // Past the bound the client will be cut off: stop holding events for it.
    if (overflow) return;
    queued.push(...events);
    if (queued.length > opts.maxQueued) overflow = true;
    wakeUp?.();
  });
  const onAbort = () => wakeUp?.();
  signal.addEventListener('abort', onAbort);
  try {
    // Subscribed first, then the position: nothing the feed reads from now on is missed.
    await feed.ready();
    if (signal.aborted) return;
    let last = BigInt(opts.after ?? feed.position);
    opts.onLive?.();
    if (opts.after !== undefined) {
      for (;;) {
        const page = await readFleetEvents(db, { ...filter, after: last.toString(), limit: opts.pageSize });
        if (signal.aborted) return;
        if (page.length > 0) {
          last = BigInt(page.at(-1)!.id);
          yield page;
        }
        if (page.length < opts.pageSize) break;
      }
    }
    while (!signal.aborted) {
      if (overflow) throw new StreamOverflowError(`more than ${opts.maxQueued} events waiting for a slow client`);
      if (queued.length === 0) {
        await new Promise<void>((resolve) => (wakeUp = resolve));
        wakeUp = null;
        if (opts.lingerMs && !signal.aborted) await delay(opts.lingerMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      // The feed hands events over in log order: only the part of the queue that catch-up already
      // sent needs dropping, so most batches are taken whole, with one comparison.
      const fresh = BigInt(queued[0]!.id) > last ? queued : queued.filter((e) => BigInt(e.id) > last);
      queued = [];
      if (fresh.length === 0) continue;
      if (signal.aborted) return;
      last = BigInt(fresh.at(-1)!.id);
      yield fresh;
    }
  } finally {
    sub.close();
    signal.removeEventListener('abort', onAbort);
  }
}
