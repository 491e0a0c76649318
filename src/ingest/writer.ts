import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Db } from '../store/db.js';
import type { ApplyResult, ChargerEvent } from './events.js';
import { applyBatch } from './batch.js';

interface Pending {
  event: ChargerEvent;
  resolve: (r: ApplyResult) => void;
  reject: (e: Error) => void;
}

export interface WriterOptions {
  /** Independent commit streams; a charger always uses the same one, so its events stay in order. */
  lanes: number;
  maxBatch: number;
}

export class WriterClosedError extends Error {
  override readonly name = 'WriterClosedError';
}

/**
 * Group commit (DESIGN.md §4): events wait while the lane's previous
 * transaction commits, then go together in one transaction; each submit()
 * resolves only after the transaction holding it has committed, so a CALL is
 * answered only with what is durable. If a batch fails, its events are retried
 * one by one so a single bad event fails alone.
 */
export class IngestWriter {
  private readonly queues: Pending[][];
  private readonly busy: boolean[];
  private readonly idle: (() => void)[] = [];
  private closed = false;
  private readonly batchSize: Histogram;
  private readonly commitSeconds: Histogram;
  private readonly failures: Counter;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    metrics: Registry,
    private readonly opts: WriterOptions,
  ) {
    this.queues = Array.from({ length: opts.lanes }, () => []);
    this.busy = Array.from({ length: opts.lanes }, () => false);
    this.batchSize = new Histogram({
      name: 'dynamo_ingest_batch_events',
      help: 'Events committed per ingest transaction',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [metrics],
    });
    this.commitSeconds = new Histogram({
      name: 'dynamo_ingest_commit_seconds',
      help: 'Time to apply and commit one ingest batch',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [metrics],
    });
    this.failures = new Counter({ name: 'dynamo_ingest_failed_events_total', help: 'Events that could not be stored', registers: [metrics] });
  }

  submit(event: ChargerEvent): Promise<ApplyResult> {
    if (this.closed) return Promise.reject(new WriterClosedError('ingest is shutting down'));
    const lane = laneOf(event.cp, this.opts.lanes);
    return new Promise((resolve, reject) => {
      this.queues[lane]!.push({ event, resolve, reject });
      if (!this.busy[lane]) {
        this.busy[lane] = true;
        // Let the events of this turn of the event loop join the batch.
        setImmediate(() => void this.drain(lane));
      }
    });
  }

  /** Resolves once every event submitted so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.busy.some(Boolean)) await new Promise<void>((r) => this.idle.push(r));
  }

  /** Refuses new events and waits for the queued ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async drain(lane: number): Promise<void> {
    const queue = this.queues[lane]!;
    while (queue.length > 0) {
      const batch = queue.splice(0, this.opts.maxBatch);
      await this.commit(batch);
    }
    this.busy[lane] = false;
    if (!this.busy.some(Boolean)) for (const wake of this.idle.splice(0)) wake();
  }

  private async commit(batch: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      // One statement, so one transaction: the whole batch commits or none of it does.
      const results = await applyBatch(this.db, batch.map((p) => p.event));
      this.batchSize.observe(batch.length);
      this.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1) {
        this.failures.inc();
        this.log.error({ err, event: batch[0]!.event.type, charge_point_id: batch[0]!.event.cp }, 'ingest: event not stored');
        batch[0]!.reject(err as Error);
        return;
      }
      for (const p of batch) await this.commit([p]);
    }
  }
}

function laneOf(cp: string, lanes: number): number {
  if (lanes === 1) return 0;
  let h = 0;
  for (let i = 0; i < cp.length; i++) h = (h * 31 + cp.charCodeAt(i)) | 0;
  return Math.abs(h) % lanes;
}
