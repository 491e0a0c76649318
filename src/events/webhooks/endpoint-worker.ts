import type { Logger } from 'pino';
import type { Db } from '../../store/db.js';
import type { FleetEvent } from '../../store/fleet-events.js';
import {
  disableEndpoint,
  LeaseLostError,
  pendingDelivery,
  recordFailure,
  saveProgress,
  type AttemptRecord,
  type DeliveredEvent,
  type DisableReason,
  type FailedAttempt,
  type HeldEndpoint,
} from '../../store/webhooks.js';
import type { EventFeed } from '../event-feed.js';
import { fleetEventStream, StreamOverflowError } from '../event-stream.js';
import { retryDelayMs } from './backoff.js';
import type { Attempt, WebhookSender } from './sender.js';
import type { Signer } from './signing.js';
import { sleep, type Pacer, type Slots } from './slots.js';

export interface WorkerContext {
  db: Db;
  feed: EventFeed;
  sender: WebhookSender;
  slots: Slots;
  pacer: Pacer;
  log: Logger;
  nodeId: string;
  retryBaseMs: number;
  disableAfterMs: number;
  /** Resolves true while this node may deliver for the endpoint (its lease is fresh), false once it lost it. */
  leaseHeld(endpointId: string, signal: AbortSignal): Promise<boolean>;
  observe(a: Attempt): void;
  disabled(reason: DisableReason): void;
}

/** Delivered events are saved (cursor and records) in batches: at most this many, or this often. */
const SAVE_BATCH = 500;
const SAVE_EVERY_MS = 1000;
/** Events queued from the live feed before this worker falls back to reading the log. */
const MAX_QUEUED = 5000;
const PAGE = 500;

interface InFlight {
  event: FleetEvent;
  attempts: number;
  /** Attempts made before the endpoint was last resumed: the backoff starts again after them. */
  attemptsBefore: number;
  log: AttemptRecord[];
  notBefore: number;
}

/**
 * Delivers one endpoint's events, in log order, one at a time (head of line: the next event
 * waits until this one is delivered, or the endpoint is disabled). Reads the log from the
 * endpoint's cursor, then follows this node's feed. Runs only while this node holds the
 * endpoint's lease; the cursor it saves never passes an event that was not delivered.
 */
export class EndpointWorker {
  private readonly abort = new AbortController();
  private cursor: bigint;
  private savedCursor: bigint;
  private buffer: DeliveredEvent[] = [];
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private firstEvent = true;
  /** When the event being delivered was written; undefined when idle (the lag metric). */
  pendingSince: Date | undefined;
  readonly done: Promise<void>;

  constructor(
    readonly endpoint: HeldEndpoint,
    private readonly signer: Signer,
    private readonly ctx: WorkerContext,
    cursorHint?: bigint,
  ) {
    const stored = BigInt(endpoint.cursor);
    this.cursor = cursorHint !== undefined && cursorHint > stored ? cursorHint : stored;
    this.savedCursor = stored;
    this.done = this.run();
  }

  get id(): string {
    return this.endpoint.endpoint_id;
  }

  get position(): bigint {
    return this.cursor;
  }

  /** Stops delivering (an attempt in flight is abandoned: it is delivered again later) and saves progress. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  private async run(): Promise<void> {
    const filter = {
      tenantId: this.endpoint.tenant_id,
      events: this.endpoint.events.includes('*') ? undefined : this.endpoint.events,
    };
    try {
      while (!this.signal.aborted) {
        let retrying: InFlight | undefined;
        try {
          const stream = fleetEventStream(this.ctx.db, this.ctx.feed, filter, { after: this.cursor.toString(), maxQueued: MAX_QUEUED, pageSize: PAGE }, this.signal);
          for await (const event of stream) {
            const job = await this.begin(event);
            const r = await this.attempt(job);
            if (r === 'stop') return;
            if (r === 'retry') {
              // Leaving the stream drops what it queued meanwhile; it is read again from the log.
              retrying = job;
              break;
            }
          }
          while (retrying && !this.signal.aborted) {
            await sleep(retrying.notBefore - Date.now(), this.signal);
            const r = await this.attempt(retrying);
            if (r === 'stop') return;
            if (r === 'delivered') retrying = undefined;
          }
        } catch (err) {
          if (err instanceof StreamOverflowError) continue; // a slow receiver: catch up from the log
          if (err instanceof LeaseLostError) {
            this.ctx.log.info({ endpoint: this.id }, 'webhooks: another node holds this endpoint now');
            return;
          }
          if (this.signal.aborted) return;
          this.ctx.log.warn({ err, endpoint: this.id }, 'webhooks: delivery loop failed; resuming from the last saved position');
          await sleep(1000 + Math.random() * 1000, this.signal);
        }
      }
    } finally {
      clearTimeout(this.saveTimer);
      await this.save().catch((err: unknown) => {
        if (!(err instanceof LeaseLostError)) this.ctx.log.warn({ err, endpoint: this.id }, 'webhooks: could not save progress at stop');
      });
    }
  }

  /** A new event to deliver; the first one may be a retry left pending by a restart or another node. */
  private async begin(event: FleetEvent): Promise<InFlight> {
    const job: InFlight = { event, attempts: 0, attemptsBefore: 0, log: [], notBefore: 0 };
    if (this.firstEvent) {
      this.firstEvent = false;
      const pending = await pendingDelivery(this.ctx.db, this.id, event.id);
      if (pending) {
        job.attempts = pending.attempts;
        // Given up when the endpoint was disabled, and now resumed: its history stays, the backoff restarts.
        if (pending.status === 'failed') job.attemptsBefore = pending.attempts;
        job.log = pending.attempt_log;
        job.notBefore = pending.next_attempt_at?.getTime() ?? 0;
      }
    }
    return job;
  }

  private async attempt(job: InFlight): Promise<'delivered' | 'retry' | 'stop'> {
    const { event } = job;
    this.pendingSince = event.created_at;
    if (job.notBefore > Date.now()) await sleep(job.notBefore - Date.now(), this.signal);
    if (this.signal.aborted) return 'stop';
    if (!(await this.ctx.leaseHeld(this.id, this.signal))) {
      if (this.signal.aborted) return 'stop';
      throw new LeaseLostError(`lease on ${this.id} lost`);
    }
    await this.ctx.pacer.turn(this.signal);
    const body = event.envelope;
    const release = await this.ctx.slots.acquire(this.signal);
    let result: Attempt;
    const at = new Date();
    try {
      if (this.signal.aborted) return 'stop';
      result = await this.ctx.sender.send(this.endpoint.url, body, this.signer.headers(event.id, at, body), this.signal);
    } finally {
      release();
    }
    if (this.signal.aborted) return 'stop';
    this.ctx.observe(result);
    job.attempts++;
    if (result.outcome === 'delivered') {
      this.pendingSince = undefined;
      this.buffer.push({ eventId: event.id, event: event.event, attempts: job.attempts, statusCode: result.statusCode!, latencyMs: result.latencyMs, at, attemptLog: job.log });
      this.cursor = BigInt(event.id);
      // After failures the good news is saved at once (it ends the run of failures).
      if (job.attempts > 1 || this.buffer.length >= SAVE_BATCH) await this.save();
      else this.saveTimer ??= setTimeout(() => void this.save().catch((err: unknown) => this.saveFailed(err)), SAVE_EVERY_MS);
      return 'delivered';
    }
    job.log = [...job.log, { at: at.toISOString(), status_code: result.statusCode, latency_ms: result.latencyMs, error: result.error ?? null }];
    const delay = retryDelayMs(job.attempts - job.attemptsBefore, this.ctx.retryBaseMs, result.retryAfterMs);
    const failed: FailedAttempt = {
      eventId: event.id,
      event: event.event,
      attempts: job.attempts,
      attemptLog: job.log,
      statusCode: result.statusCode,
      error: result.error ?? result.outcome,
      latencyMs: result.latencyMs,
      nextAttemptAt: new Date(Date.now() + delay),
    };
    await this.save();
    if (result.outcome === 'gone') return this.disable('gone', failed);
    const failingSince = await recordFailure(this.ctx.db, this.ctx.nodeId, this.id, failed);
    if (Date.now() - failingSince.getTime() >= this.ctx.disableAfterMs) return this.disable('failing', failed);
    this.ctx.log.info(
      { endpoint: this.id, event: event.id, attempts: job.attempts, statusCode: result.statusCode, outcome: result.outcome, retryInMs: delay },
      'webhooks: delivery failed; retrying',
    );
    job.notBefore = failed.nextAttemptAt.getTime();
    return 'retry';
  }

  private async disable(reason: DisableReason, failed: FailedAttempt): Promise<'stop'> {
    const done = await this.ctx.db.transaction((tx) => disableEndpoint(tx, this.ctx.nodeId, this.id, reason, failed));
    if (done) {
      this.ctx.log.warn({ endpoint: this.id, reason, event: failed.eventId, statusCode: failed.statusCode }, 'webhooks: endpoint disabled');
      this.ctx.disabled(reason);
    }
    this.abort.abort();
    return 'stop';
  }

  /** Saves delivered events and the cursor (serialised: one save at a time, in order). */
  private save(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const next = this.saving.then(async () => {
      const batch = this.buffer;
      const cursor = this.cursor;
      if (batch.length === 0 && cursor === this.savedCursor) return;
      this.buffer = [];
      try {
        await this.ctx.db.transaction((tx) => saveProgress(tx, this.ctx.nodeId, this.id, cursor.toString(), batch));
      } catch (err) {
        this.buffer = batch.concat(this.buffer);
        throw err;
      }
      this.savedCursor = cursor;
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  private saveFailed(err: unknown): void {
    if (err instanceof LeaseLostError) {
      this.ctx.log.info({ endpoint: this.id }, 'webhooks: another node holds this endpoint now');
      this.abort.abort();
    } else {
      this.ctx.log.warn({ err, endpoint: this.id }, 'webhooks: could not save delivery progress; retrying');
      this.saveTimer ??= setTimeout(() => void this.save().catch((e: unknown) => this.saveFailed(e)), SAVE_EVERY_MS);
    }
  }
}
