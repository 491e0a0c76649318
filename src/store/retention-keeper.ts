import type { Logger } from 'pino';

export interface RetentionOptions {
  /** What is pruned, for the log ("event log", "transaction guard"). */
  what: string;
  retentionDays: number;
  /** Deletes at most `chunk` rows older than `before`; returns how many it deleted. */
  prune(before: Date, chunk: number): Promise<number>;
  everyMs?: number;
  /** Rows per delete. */
  chunk?: number;
}

/**
 * Drops rows past retention, off the ingest path: small deletes from the old end, one after
 * another, so no statement holds locks or a transaction for long. Every node runs one; two nodes
 * deleting the same rows at once only means one of them finds fewer.
 */
export class RetentionKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly everyMs: number;
  private readonly chunk: number;

  constructor(
    private readonly log: Logger,
    private readonly opts: RetentionOptions,
  ) {
    this.everyMs = opts.everyMs ?? 3_600_000;
    this.chunk = opts.chunk ?? 5000;
  }

  start(): void {
    const tick = () => void (this.running ??= this.pruneNow().then(() => undefined).finally(() => (this.running = undefined)));
    tick();
    this.timer = setInterval(tick, this.everyMs);
    this.timer.unref();
  }

  /** Waits for the chunk being deleted, not for the rest of a run (a first run may have a backlog). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Deletes every row older than retention at `now`; returns how many. */
  async pruneNow(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.opts.retentionDays * 86_400_000);
    let total = 0;
    try {
      while (!this.stopping) {
        const n = await this.opts.prune(before, this.chunk);
        total += n;
        if (n < this.chunk) break;
      }
      if (total) this.log.info({ deleted: total, before }, `${this.opts.what}: pruned rows past retention`);
    } catch (err) {
      this.log.warn({ err, deleted: total }, `${this.opts.what}: pruning failed; retrying at the next run`);
    }
    return total;
  }
}
