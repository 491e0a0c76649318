import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Db } from '../store/db.js';
import { refreshRollups } from '../store/rollups.js';

export interface RollupKeeperOptions {
  intervalMs: number;
  /** Size of one step (one short transaction): chargers, and hours per charger. */
  chargers: number;
  hours: number;
  /** Steps per wake-up at most, so a large backlog (a first build) is worked off over several. */
  maxSteps: number;
}

/**
 * Keeps the hourly rollups (docs/metrics.md "Rollups") up to date: every interval it seals the hours
 * that ended at least 15 minutes ago and recomputes those a late message touched, in small steps.
 * Answers never depend on it being up to date: what the rollups do not cover is computed directly.
 * One node refreshes at a time (an advisory lock in the database); the others find nothing to do.
 */
export class RollupKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly rows: Counter;
  private readonly seconds: Histogram;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    metrics: Registry,
    private readonly opts: RollupKeeperOptions,
  ) {
    this.rows = new Counter({ name: 'dynamo_rollup_hours_written_total', help: 'Charger-hour rollup rows written', registers: [metrics] });
    this.seconds = new Histogram({ name: 'dynamo_rollup_step_seconds', help: 'Time of one rollup maintenance step', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5], registers: [metrics] });
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.tick());
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    try {
      for (let i = 0; i < this.opts.maxSteps; i++) {
        const started = process.hrtime.bigint();
        const n = await refreshRollups(this.db, { seal: new Date(), chargers: this.opts.chargers, hours: this.opts.hours });
        this.seconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        this.rows.inc(n);
        if (n === 0) return;
      }
    } catch (err) {
      this.log.warn({ err }, 'rollup maintenance failed; answers are computed without the missing hours until the next attempt');
    }
  }
}
