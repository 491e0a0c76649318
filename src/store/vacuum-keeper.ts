import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Db } from './db.js';
import { dueTables, vacuumTable } from './vacuum.js';

/**
 * The embedded database's autovacuum (PGlite has none; docs/operations.md): every interval it
 * vacuums and analyzes the tables that PostgreSQL's autovacuum would (src/store/vacuum.ts), one at
 * a time. PGlite is a single connection, so while a table is vacuumed every other statement waits
 * for it, ingest included; each table is one VACUUM, logged with its duration, and a table is due
 * only after a fifth of it changed, so the waits are short and rare after the first pass.
 */
export class VacuumKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly seconds: Histogram;
  private readonly failures: Counter;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    metrics: Registry,
    private readonly intervalMs: number,
  ) {
    this.seconds = new Histogram({
      name: 'dynamo_vacuum_seconds',
      help: 'Time of one VACUUM or ANALYZE of a table by the embedded database keeper (other statements wait meanwhile)',
      labelNames: ['table'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [metrics],
    });
    this.failures = new Counter({ name: 'dynamo_vacuum_failures_total', help: 'VACUUM or ANALYZE runs that failed', registers: [metrics] });
  }

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over the tables due now; resolves when it (and any pass before it) is done. */
  runOnce(): Promise<void> {
    this.running = this.running.then(() => this.pass());
    return this.running;
  }

  private async pass(): Promise<void> {
    try {
      for (const due of await dueTables(this.db)) {
        const started = process.hrtime.bigint();
        await vacuumTable(this.db, due);
        const s = Number(process.hrtime.bigint() - started) / 1e9;
        this.seconds.observe({ table: due.table }, s);
        this.log.info({ table: due.table, vacuum: due.vacuum, analyze: due.analyze, ms: Math.round(s * 1000) }, 'embedded database: table vacuumed');
      }
    } catch (err) {
      this.failures.inc();
      this.log.warn({ err }, 'embedded database vacuum failed; tried again at the next interval');
    }
  }
}
