import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ulid } from 'ulid';
import type { Db } from '../../store/db.js';
import {
  claimEndpoints,
  recordTestDelivery,
  releaseEndpoints,
  replaceStoredSecret,
  storedSecrets,
  type DisableReason,
  type HeldEndpoint,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../store/webhooks.js';
import { SecretUnavailableError, type SecretBox } from '../../security/secret-box.js';
import { wireInstant } from '../../instant.js';
import type { EventFeed } from '../event-feed.js';
import { EndpointWorker } from './endpoint-worker.js';
import { WebhookSender, type Attempt } from './sender.js';
import { Signer } from './signing.js';
import { Pacer, Slots } from './slots.js';
import { checkTarget, type TargetPolicy } from './target.js';
import { Coalesced } from '../../coalesced.js';

export interface WebhookServiceOptions {
  policy: TargetPolicy;
  timeoutMs: number;
  retryBaseMs: number;
  disableAfterMs: number;
  /** HTTP requests in flight on this node at most. */
  concurrency: number;
  /** Seconds a lease lasts without renewal: a stopped or dead node's endpoints move after this. */
  leaseSec: number;
  /** Messages waiting in ingest right now: deliveries slow down while ingest is behind (Pacer). */
  ingestBacklog: () => number;
}

/**
 * Ingest is "behind" at this many waiting messages, or with the event loop this late (both
 * smoothed over about a second); deliveries then go out at most this often per second per node.
 */
const PACING = { backlogThreshold: 50, loopDelayThresholdMs: 20, rate: 50 };

export class SecretsKeyError extends Error {
  override readonly name = 'SecretsKeyError';
}

/**
 * Webhook deliveries on this node (docs/alerts.md "Webhooks"): claims endpoints by lease (one
 * node per endpoint at a time, across every node on the database), runs one EndpointWorker per
 * endpoint it holds, bounds the requests in flight, and reports metrics. Workers wake on the
 * event feed (this node's reader of the log) and on their retry timers; they use their own short
 * queries, never the ingest writer. Knows nothing of the HTTP API that manages endpoints.
 */
export class WebhookService {
  private readonly sender: WebhookSender;
  private readonly slots: Slots;
  private readonly pacer: Pacer;
  private readonly workers = new Map<string, EndpointWorker>();
  private timer: NodeJS.Timeout | undefined;
  private readonly claims: Coalesced;
  private stopped = false;
  private leaseValidUntil = 0;
  private renewalWaiters: (() => void)[] = [];
  private readonly renewMs: number;
  private readonly deliveries: Counter<'outcome'>;
  private readonly latency: Histogram<'outcome'>;
  private readonly disabledTotal: Counter<'reason'>;

  constructor(
    private readonly db: Db,
    private readonly feed: EventFeed,
    private readonly secrets: SecretBox,
    private readonly log: Logger,
    metrics: Registry,
    private readonly nodeId: string,
    private readonly opts: WebhookServiceOptions,
  ) {
    this.sender = new WebhookSender({ policy: opts.policy, timeoutMs: opts.timeoutMs });
    this.slots = new Slots(opts.concurrency);
    this.pacer = new Pacer({ backlog: opts.ingestBacklog, ...PACING });
    this.renewMs = Math.max(500, (opts.leaseSec * 1000) / 3);
    this.claims = new Coalesced(
      () => this.tick(),
      (err) => this.log.warn({ err }, 'webhooks: claiming endpoints failed; retrying at the next renewal'),
    );
    this.deliveries = new Counter({
      name: 'dynamo_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, http_error, timeout, network_error, refused, gone)',
      labelNames: ['outcome'],
      registers: [metrics],
    });
    this.latency = new Histogram({
      name: 'dynamo_webhook_delivery_duration_seconds',
      help: 'Webhook delivery attempt duration, request to complete answer, by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics],
    });
    this.disabledTotal = new Counter({
      name: 'dynamo_webhook_endpoints_disabled_total',
      help: 'Webhook endpoints this node disabled, by reason (gone: a 410; failing: sustained failure)',
      labelNames: ['reason'],
      registers: [metrics],
    });
    const workers = this.workers;
    const pacer = this.pacer;
    new Gauge({
      name: 'dynamo_webhook_yielding_to_ingest',
      help: '1 while ingest has a backlog and webhook deliveries on this node are paced to leave it the CPU and database',
      registers: [metrics],
      collect() {
        this.set(pacer.underPressure ? 1 : 0);
      },
    });
    new Gauge({
      name: 'dynamo_webhook_endpoints_held',
      help: 'Webhook endpoints this node delivers for (holds the lease of)',
      registers: [metrics],
      collect() {
        this.set(workers.size);
      },
    });
    new Gauge({
      name: 'dynamo_webhook_delivery_lag_seconds',
      help: 'Age of the oldest event this node is still delivering (0 when every endpoint it holds is caught up)',
      registers: [metrics],
      collect() {
        const oldest = Math.min(...[...workers.values()].map((w) => w.pendingSince?.getTime() ?? Infinity));
        this.set(Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0);
      },
    });
  }

  /** Checks every stored secret opens under the configured key (and seals clear ones when a key is set), then starts. */
  async start(): Promise<void> {
    for (const s of await storedSecrets(this.db)) {
      let secret: string;
      try {
        secret = this.secrets.open(s.secret, s.endpoint_id);
      } catch (err) {
        if (err instanceof SecretUnavailableError) throw new SecretsKeyError(`webhook endpoint ${s.endpoint_id}: ${err.message}; set DYNAMO_SECRETS_KEY to the key it was stored with`);
        throw err;
      }
      if (this.secrets.needsSealing(s.secret)) await replaceStoredSecret(this.db, s.endpoint_id, s.secret, this.secrets.seal(secret, s.endpoint_id));
    }
    this.timer = setInterval(() => this.claims.run(), this.renewMs);
    this.timer.unref();
    this.claims.run();
  }

  /**
   * An endpoint was created, changed or deleted: take it up (or drop it) now rather than at the
   * next renewal. Resolves once this node's workers match it (a paused or deleted endpoint's worker
   * has stopped), so the API answers only when the change holds here.
   */
  changed(): Promise<void> {
    return this.claims.settled();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.renewalWaiters.splice(0)) wake();
    clearInterval(this.timer);
    await this.claims.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    // Handing the leases back lets another node continue at once instead of after the lease time.
    await releaseEndpoints(this.db, this.nodeId).catch((err: unknown) => this.log.warn({ err }, 'webhooks: could not release leases'));
    this.sender.close();
    this.pacer.stop();
  }

  /** The checks a new or changed URL must pass (throws WebhookTargetError). */
  checkUrl(url: string): Promise<URL> {
    return checkTarget(url, this.opts.policy);
  }

  sealSecret(secret: string, endpointId: string): string {
    return this.secrets.seal(secret, endpointId);
  }

  /**
   * Sends one signed `webhook_endpoint.test` message now, outside the log (not retried, no cursor
   * moved), and records its outcome among the endpoint's deliveries.
   */
  async test(endpoint: WebhookEndpoint): Promise<WebhookDelivery> {
    const id = `test_${ulid()}`;
    const at = new Date();
    const body = JSON.stringify({
      id,
      event: 'webhook_endpoint.test',
      created_at: wireInstant(at),
      tenant_id: endpoint.tenant_id,
      data: { endpoint_id: endpoint.endpoint_id, message: 'A test delivery from Dynamo: not an event of the log.' },
    });
    const signer = new Signer(this.secrets.open(endpoint.secret, endpoint.endpoint_id));
    const release = await this.slots.acquire();
    let result: Attempt;
    try {
      result = await this.sender.send(endpoint.url, body, signer.headers(id, at, body));
    } finally {
      release();
    }
    this.observe(result);
    return recordTestDelivery(this.db, endpoint.endpoint_id, {
      ok: result.outcome === 'delivered',
      statusCode: result.statusCode,
      error: result.error ?? null,
      latencyMs: result.latencyMs,
      at,
    });
  }

  private observe(a: Attempt): void {
    this.deliveries.inc({ outcome: a.outcome });
    this.latency.observe({ outcome: a.outcome }, a.latencyMs / 1000);
  }

  /** Renews and claims leases, then makes the running workers match what this node holds. */
  private async tick(): Promise<void> {
    const asked = Date.now();
    let held: HeldEndpoint[];
    try {
      held = await claimEndpoints(this.db, this.nodeId, this.opts.leaseSec, 10_000);
      // A margin of one renewal period: a node that cannot renew stops sending before its lease ends.
      this.leaseValidUntil = asked + this.opts.leaseSec * 1000 - this.renewMs;
    } finally {
      for (const wake of this.renewalWaiters.splice(0)) wake();
    }
    if (this.stopped) return;
    const ids = new Set(held.map((e) => e.endpoint_id));
    const stopping: Promise<void>[] = [];
    for (const [id, w] of this.workers) {
      if (!ids.has(id)) {
        this.workers.delete(id);
        stopping.push(w.stop());
      }
    }
    await Promise.all(stopping);
    for (const e of held) {
      const running = this.workers.get(e.endpoint_id);
      if (running && running.endpoint.version === e.version) continue;
      let cursorHint: bigint | undefined;
      if (running) {
        this.workers.delete(e.endpoint_id);
        await running.stop();
        cursorHint = running.position;
      }
      this.startWorker(e, cursorHint);
    }
  }

  private startWorker(e: HeldEndpoint, cursorHint?: bigint): void {
    let signer: Signer;
    try {
      signer = new Signer(this.secrets.open(e.secret, e.endpoint_id));
    } catch (err) {
      this.log.error({ endpoint: e.endpoint_id, reason: (err as Error).message }, 'webhooks: cannot open the endpoint secret; not delivering');
      return;
    }
    const worker = new EndpointWorker(
      e,
      signer,
      {
        db: this.db,
        feed: this.feed,
        sender: this.sender,
        slots: this.slots,
        pacer: this.pacer,
        log: this.log,
        nodeId: this.nodeId,
        retryBaseMs: this.opts.retryBaseMs,
        disableAfterMs: this.opts.disableAfterMs,
        leaseHeld: (id, signal) => this.leaseHeld(id, signal),
        observe: (a) => this.observe(a),
        disabled: (reason) => this.onDisabled(reason),
      },
      cursorHint,
    );
    this.workers.set(e.endpoint_id, worker);
    void worker.done.then(() => {
      if (this.workers.get(e.endpoint_id) === worker) this.workers.delete(e.endpoint_id);
    });
  }

  private async leaseHeld(endpointId: string, signal: AbortSignal): Promise<boolean> {
    if (Date.now() < this.leaseValidUntil) return this.workers.has(endpointId);
    // Renewal is late (a slow database, a paused process): renew now before sending anything.
    // (Waiting for the renewal only, not the whole tick: a tick may be stopping this very worker.)
    const renewed = new Promise<void>((resolve) => {
      this.renewalWaiters.push(resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.claims.run();
    if (this.stopped) return false;
    await renewed;
    return !signal.aborted && Date.now() < this.leaseValidUntil && this.workers.has(endpointId);
  }

  private onDisabled(reason: DisableReason): void {
    this.disabledTotal.inc({ reason });
    // The webhook_endpoint.disabled event was just written: other listeners hear of it now.
    this.feed.wake();
  }
}
