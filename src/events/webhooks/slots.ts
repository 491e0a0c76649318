import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** At most `size` holders at once; the rest wait in arrival order. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Waits for a slot; a caller stopped meanwhile (signal) leaves the queue and gets the signal's reason thrown. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.free > 0) this.free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const granted = () => {
          signal?.removeEventListener('abort', gaveUp);
          resolve();
        };
        const gaveUp = () => {
          this.waiting.splice(this.waiting.indexOf(granted), 1);
          reject(signal!.reason);
        };
        this.waiting.push(granted);
        signal?.addEventListener('abort', gaveUp, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/** Resolves after ms, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface PacerOptions {
  /** Messages waiting in ingest right now. */
  backlog: () => number;
  /** Ingest is behind at this many waiting messages (smoothed): the database is its bottleneck. */
  backlogThreshold: number;
  /** …or when this process's event loop is this late (ms, smoothed mean): its CPU is the bottleneck. */
  loopDelayThresholdMs: number;
  /** Deliveries per second on this node while ingest is behind. */
  rate: number;
}

/**
 * Webhooks yield to ingest (docs/alerts.md "Delivery beside ingest"): while ingest is behind (a
 * backlog of messages waiting for a commit, or an event loop so busy that chargers' messages wait
 * to be read), deliveries on this node go out at most `rate` per second, so they take a small,
 * bounded share of the CPU and database that chargers' acknowledgements need; they fall behind and
 * catch up from the durable log once ingest has headroom. Otherwise they run at full speed
 * (bounded by Slots).
 */
export class Pacer {
  private next = 0;
  private backlog = 0;
  private delayMs = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly loop: IntervalHistogram;

  constructor(private readonly o: PacerOptions) {
    this.loop = monitorEventLoopDelay({ resolution: 10 });
    this.loop.enable();
    // Sampled every 100 ms, smoothed over about a second: one busy instant is not a backlog.
    this.timer = setInterval(() => {
      this.backlog = this.backlog * 0.9 + this.o.backlog() * 0.1;
      const mean = Number.isFinite(this.loop.mean) ? this.loop.mean / 1e6 : 0;
      this.loop.reset();
      this.delayMs = this.delayMs * 0.9 + mean * 0.1;
    }, 100);
    this.timer.unref();
  }

  get underPressure(): boolean {
    return this.backlog >= this.o.backlogThreshold || this.delayMs >= this.o.loopDelayThresholdMs;
  }

  /** Resolves when this delivery may go out (at once unless ingest is behind). */
  async turn(signal: AbortSignal): Promise<void> {
    while (this.underPressure && !signal.aborted) {
      const now = Date.now();
      if (this.next <= now) {
        this.next = now + 1000 / this.o.rate;
        return;
      }
      await sleep(this.next - now, signal);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.loop.disable();
  }
}
