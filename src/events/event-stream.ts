import type { Queryable } from '../store/db.js';
import { readFleetEvents, type FleetEvent } from '../store/fleet-events.js';
import type { EventFeed, FeedFilter } from './event-feed.js';

export interface StreamOptions {
  /** Start after this event id; undefined starts at the live position (only new events). */
  after?: string;
  /** Events a slow client may have waiting before it is cut off (it reconnects and catches up from the log). */
  maxQueued: number;
  pageSize: number;
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
    let last = BigInt(opts.after ?? feed.position);
    if (opts.after !== undefined) {
      for (;;) {
        const page = await readFleetEvents(db, { ...filter, after: last.toString(), limit: opts.pageSize });
        for (const e of page) {
          if (signal.aborted) return;
          yield e;
          last = BigInt(e.id);
        }
        if (page.length < opts.pageSize) break;
      }
    }
    while (!signal.aborted) {
      if (overflow) throw new StreamOverflowError(`more than ${opts.maxQueued} events waiting for a slow client`);
      if (queued.length === 0) {
        await new Promise<void>((resolve) => (wakeUp = resolve));
        wakeUp = null;
        continue;
      }
      const batch = queued;
      queued = [];
      for (const e of batch) {
        const id = BigInt(e.id);
        if (id <= last) continue;
        if (signal.aborted) return;
        yield e;
        last = id;
      }
    }
  } finally {
    sub.close();
    signal.removeEventListener('abort', onAbort);
  }
}
