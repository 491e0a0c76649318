/** At most `size` holders at once; the rest wait in arrival order. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
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

/**
 * Webhooks yield to ingest (docs/alerts.md "Delivery beside ingest"): while ingest has a backlog
 * (its smoothed count of waiting messages at or above `threshold`), deliveries on this node go
 * out at most `rate` per second, so they take a small, bounded share of the CPU and database that
 * chargers' acknowledgements need; they fall behind and catch up from the durable log once ingest
 * has headroom. Without a backlog they run at full speed (bounded by Slots).
 */
export class Pacer {
  private next = 0;
  private smoothed = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly backlog: () => number,
    private readonly threshold: number,
    private readonly rate: number,
  ) {
    // Sampled every 100 ms, smoothed over about a second: one busy instant is not a backlog.
    this.timer = setInterval(() => (this.smoothed = this.smoothed * 0.9 + this.backlog() * 0.1), 100);
    this.timer.unref();
  }

  get underPressure(): boolean {
    return this.smoothed >= this.threshold;
  }

  /** Resolves when this delivery may go out (at once unless ingest is behind). */
  async turn(signal: AbortSignal): Promise<void> {
    while (this.underPressure && !signal.aborted) {
      const now = Date.now();
      if (this.next <= now) {
        this.next = now + 1000 / this.rate;
        return;
      }
      await sleep(this.next - now, signal);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
