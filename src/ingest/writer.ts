import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Db } from '../store/db.js';
import type { ApplyResult, ChargerEvent } from './events.js';
import { applyBatch, failedMessageOf, isTransientFailure } from './batch.js';

/** One OCPP message's events: committed together or not at all, answered once. */
interface Pending {
  events: readonly ChargerEvent[];
  resolve: (r: ApplyResult[]) => void;
  reject: (e: Error) => void;
}

export interface WriterOptions {
  /** Independent commit streams; a charger always uses the same one, so its messages stay in order. */
  lanes: number;
  /** Events per transaction, as a target: a message is never split, so one large message may exceed it. */
  maxBatch: number;
}

export class WriterClosedError extends Error {
  override readonly name = 'WriterClosedError';
}

/**
 * Group commit (DESIGN.md §4): messages wait while the lane's previous
 * transaction commits, then go together in one transaction; each submit()
 * resolves only after the transaction holding it has committed, so a CALL is
 * answered only with what is durable.
 *
 * The unit is the message, not the event: all events of one CALL go in one
 * submit() and are never cut apart by a batch boundary or a retry. If a batch
 * fails, dynamo_apply() names the message that failed; that one is refused and
 * the rest are committed again together, so a poisoned message costs one retry.
 */
export class IngestWriter {
  private readonly queues: Pending[][];
  private readonly busy: boolean[];
  private readonly idle: (() => void)[] = [];
  private closed = false;
  private readonly committed: ((eventsWritten: number) => void)[] = [];
  private readonly batchSize: Histogram;
  private readonly commitSeconds: Histogram;
  private readonly failures: Counter;
  private readonly retries: Counter;
  private readonly transientRetries: Counter;

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
    this.failures = new Counter({ name: 'dynamo_ingest_failed_messages_total', help: 'OCPP messages whose events could not be stored', registers: [metrics] });
    this.transientRetries = new Counter({
      name: 'dynamo_ingest_transient_retries_total',
      help: 'Batches run again whole after the database rolled them back (deadlock or serialization failure)',
      registers: [metrics],
    });
    this.retries = new Counter({ name: 'dynamo_ingest_batch_retries_total', help: 'Batches committed again after one of their messages failed', registers: [metrics] });
  }

  /** Messages waiting for a commit (not counting those being committed): how far ingest is behind. */
  get waiting(): number {
    return this.queues.reduce((n, q) => n + q.length, 0);
  }

  /** Called after every committed batch with the number of fleet events it wrote (readers of the event log wake up). */
  onCommit(listener: (eventsWritten: number) => void): void {
    this.committed.push(listener);
  }

  /** Commits the events of one message together; resolves with one result per event. */
  submit(events: readonly ChargerEvent[]): Promise<ApplyResult[]> {
    if (this.closed) return Promise.reject(new WriterClosedError('ingest is shutting down'));
    if (events.length === 0) return Promise.resolve([]);
    const lane = laneOf(events[0]!.cp, this.opts.lanes);
    return new Promise((resolve, reject) => {
      this.queues[lane]!.push({ events, resolve, reject });
      if (!this.busy[lane]) {
        this.busy[lane] = true;
        // At once (after the socket callback that brought this message), not on setImmediate: under
        // load libuv stays in its poll phase for up to 48 × 1,024 socket events before it runs the
        // immediates, and a drain waiting there held every lane's commits back for 10-16 s at the
        // start of the ingest bench's max phase (docs/benchmarks.md, "Timers starved by the poll
        // phase"). Messages that come while this batch commits go together in the next one.
        queueMicrotask(() => void this.drain(lane));
      }
    });
  }

  /** Resolves once every message submitted so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.busy.some(Boolean)) await this.whenIdle();
  }

  /** Resolves when no lane has a message queued or committing: at once if none has, else when the last one ends. */
  whenIdle(): Promise<void> {
    if (!this.busy.some(Boolean)) return Promise.resolve();
    return new Promise<void>((r) => this.idle.push(r));
  }

  /** Refuses new messages and waits for the queued ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async drain(lane: number): Promise<void> {
    const queue = this.queues[lane]!;
    try {
      while (queue.length > 0) await this.commit(takeBatch(queue, this.opts.maxBatch));
    } finally {
      // Even after a failure commit() did not expect: flush(), close() and the message log's turns wait for this.
      this.busy[lane] = false;
      if (!this.busy.some(Boolean)) for (const wake of this.idle.splice(0)) wake();
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    let transientTries = 0;
    while (batch.length > 0) {
      const started = process.hrtime.bigint();
      try {
        // One statement, so one transaction: the whole batch commits or none of it does.
        const { results, eventsWritten } = await applyBatch(this.db, batch.map((p) => p.events));
        this.batchSize.observe(batch.reduce((n, p) => n + p.events.length, 0));
        this.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        batch.forEach((p, i) => p.resolve(results[i]!));
        for (const listener of this.committed) listener(eventsWritten);
        return;
      } catch (err) {
        if (isTransientFailure(err) && transientTries < MAX_TRANSIENT_TRIES) {
          transientTries++;
          this.transientRetries.inc();
          this.log.warn({ err, messages: batch.length }, 'ingest: batch rolled back by the database (deadlock or serialization failure); running it again');
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * transientTries));
          continue;
        }
        const failed = failedMessageOf(err, batch.length);
        // Without a culprit (the database itself failed) every message is refused: the chargers retry.
        const refused = failed === undefined ? batch.splice(0) : batch.splice(failed, 1);
        for (const p of refused) {
          this.failures.inc();
          this.log.error({ err, events: p.events.map((e) => e.type), charge_point_id: p.events[0]!.cp }, 'ingest: message not stored');
          p.reject(err as Error);
        }
        if (batch.length > 0) this.retries.inc();
      }
    }
  }
}

/** Runs of one batch after a deadlock or serialization failure before its messages are refused. */
const MAX_TRANSIENT_TRIES = 5;

/** Whole messages from the head of the queue, up to maxBatch events (at least one message). */
function takeBatch(queue: Pending[], maxBatch: number): Pending[] {
  let n = 0;
  let events = 0;
  while (n < queue.length && (n === 0 || events + queue[n]!.events.length <= maxBatch)) events += queue[n++]!.events.length;
  return queue.splice(0, n);
}

function laneOf(cp: string, lanes: number): number {
  if (lanes === 1) return 0;
  let h = 0;
  for (let i = 0; i < cp.length; i++) h = (h * 31 + cp.charCodeAt(i)) | 0;
  return Math.abs(h) % lanes;
}
