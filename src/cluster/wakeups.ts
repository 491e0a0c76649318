import type { Bus } from './bus.js';
import { Coalesced } from '../coalesced.js';

/**
 * Wake-ups for readers of the database that run on every node (event streams, webhook workers):
 * "something new was committed, look again". Coalesced: however many commits a node makes within
 * `coalesceMs`, it broadcasts one wake-up per topic. A reader must still look on its own every
 * `fallbackMs`: a wake-up is a hint that may be lost (the bus is at most once), the database is
 * the truth, so a lost one only delays.
 */
export class Wakeups {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly coalesceMs = 20,
  ) {}

  /** Something readers of `topic` care about was committed on this node. */
  notify(topic: string): void {
    this.pending.add(topic);
    this.timer ??= setTimeout(() => this.send(), this.coalesceMs);
  }

  /**
   * Calls `wake` after every wake-up of `topic` from any node and at least every `fallbackMs`
   * (never twice at once: a wake-up while `wake` runs makes it run once more afterwards).
   */
  subscribe(topic: string, wake: () => Promise<void> | void, fallbackMs: number): () => void {
    const runner = new Coalesced(async () => wake(), () => undefined);
    const run = () => runner.run();
    const stopListening = this.bus.listen(`wake.${topic}`, run);
    const fallback = setInterval(run, fallbackMs);
    fallback.unref();
    return () => {
      stopListening();
      clearInterval(fallback);
      void runner.stop();
    };
  }

  /** Sends what is pending now (on shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.send();
  }

  private send(): void {
    this.timer = undefined;
    for (const topic of this.pending) this.bus.broadcast(`wake.${topic}`, { node: this.bus.nodeId });
    this.pending.clear();
  }
}
