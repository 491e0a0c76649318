import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Db } from '../store/db.js';
import { newId } from '../ids.js';
import {
  completeBulk,
  completeCommand,
  getBulk,
  getCommand,
  insertBulk,
  insertCommand,
  interruptOrphanedCommands,
  listCommands,
  nextRequestId,
  siteChargers,
  tenantChargers,
  type BulkRow,
  type CommandCompletion,
  type CommandFilter,
  type CommandRow,
} from '../store/commands.js';
import { getCharger } from '../store/chargers.js';
import { getSession } from '../store/sessions.js';
import { isSecretKey, maskOcppSecrets, MASK } from '../security/ocpp-secrets.js';
import type { Page } from '../store/db.js';
import type { CommandName, CommandParams } from './catalog.js';
import { validateCommand } from './validate.js';
import { adapterFor } from './adapters/index.js';
import type { OcppCall } from './adapters/adapter.js';
import { CommandConflictError, CommandInputError, CommandNotFoundError, NotSupportedByVersion } from './errors.js';
import type { CallOutcome, ChargerCommandTransport } from './transport.js';

export interface CommandServiceOptions {
  nodeId: string;
  /** Bulk commands in flight at once, over all bulk jobs of this node. */
  bulkConcurrency: number;
  /** Most chargers one bulk command may address. */
  bulkMax: number;
}

export interface CommandRequest {
  tenantId: string;
  chargePointId: string;
  command: string;
  parameters: unknown;
  timeoutMs: number;
  /** Who sent it: an API key id, or what acted for one (maintenance:mnt_…). */
  requestedBy: string;
}

export interface BulkRequest {
  tenantId: string;
  command: string;
  parameters: unknown;
  chargePointIds?: string[];
  siteId?: string;
  timeoutMs: number;
  requestedBy: string;
}

/** One command ready to go: its record exists (Pending); what the mapping needs is resolved. */
interface Job {
  commandId: string;
  chargePointId: string;
  command: CommandName;
  parameters: CommandParams;
  timeoutMs: number;
  transactionId?: string;
}

/**
 * Remote commands (docs/commands.md), knowing nothing of HTTP: validates, records every command
 * durably before it is sent, maps it to the charger's OCPP version through the adapters, sends
 * it through the transport (which keeps one CALL in flight per charger), and records the outcome
 * in one place (complete()). Bulk commands run in the background with bounded concurrency.
 */
export class CommandService {
  private readonly outcomes: Counter;
  private readonly running = new Set<Promise<unknown>>();
  private readonly bulkQueue: (() => Promise<void>)[] = [];
  private bulkActive = 0;
  private closed = false;
  private recovery: NodeJS.Timeout | undefined;
  /** Per charger, the commands still being prepared: they reach the transport in arrival order. */
  private readonly arrivals = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: Db,
    private readonly transport: ChargerCommandTransport,
    private readonly log: Logger,
    metrics: Registry,
    private readonly opts: CommandServiceOptions,
  ) {
    this.outcomes = new Counter({ name: 'dynamo_commands_total', help: 'Remote commands by command and final status', labelNames: ['command', 'status'], registers: [metrics] });
  }

  /** Ends commands that a stopped node left Pending, now and every minute (a node may crash while this one runs). */
  async start(): Promise<void> {
    await this.recover();
    this.recovery = setInterval(() => void this.recover().catch((err) => this.log.warn({ err }, 'command recovery failed')), 60_000);
    this.recovery.unref();
  }

  private async recover(): Promise<void> {
    const n = await interruptOrphanedCommands(this.db);
    if (n > 0) this.log.warn({ commands: n }, 'commands left pending by a stopped node recorded as interrupted');
  }

  /** Starts no more bulk items (they end as Interrupted), waits for those in flight. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.recovery);
    for (const run of this.bulkQueue.splice(0)) this.track(run());
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Sends one command and resolves with its record once it has ended. */
  async send(req: CommandRequest): Promise<CommandRow> {
    const { command, parameters } = validateCommand(req.command, req.parameters);
    if (!(await getCharger(this.db, req.tenantId, req.chargePointId))) throw new CommandNotFoundError('charger', 'charge_point_id');
    const job: Job = { commandId: newId('cmd'), chargePointId: req.chargePointId, command, parameters, timeoutMs: req.timeoutMs };
    if (command === 'stop_session') job.transactionId = await this.sessionTransaction(req.tenantId, req.chargePointId, (parameters as CommandParams<'stop_session'>).session_id);
    const { done } = await this.inArrivalOrder(job.chargePointId, async () => {
      await insertCommand(this.db, { ...job, tenantId: req.tenantId, parameters: storedParameters(command, parameters), requestedBy: req.requestedBy, nodeId: this.opts.nodeId });
      return this.begin(job);
    });
    await this.track(done);
    return (await getCommand(this.db, req.tenantId, job.commandId))!;
  }

  /**
   * Records a command for a charger and starts it without waiting (maintenance windows).
   * `claim` runs in the same transaction as the insert and may veto it by returning false.
   */
  async sendInBackground(req: Omit<CommandRequest, 'parameters'> & { parameters: CommandParams }, claim: (commandId: string, tx: import('../store/db.js').Queryable) => Promise<boolean>): Promise<string | undefined> {
    const { command, parameters } = validateCommand(req.command, req.parameters);
    const job: Job = { commandId: newId('cmd'), chargePointId: req.chargePointId, command, parameters, timeoutMs: req.timeoutMs };
    const claimed = await this.db.transaction(async (tx) => {
      await insertCommand(tx, { ...job, tenantId: req.tenantId, parameters: storedParameters(command, parameters), requestedBy: req.requestedBy, nodeId: this.opts.nodeId });
      if (await claim(job.commandId, tx)) return true;
      throw new ClaimLost();
    }).catch((err) => {
      if (err instanceof ClaimLost) return false;
      throw err;
    });
    if (!claimed) return undefined;
    this.track(this.execute(job));
    return job.commandId;
  }

  async startBulk(req: BulkRequest): Promise<{ bulk_id: string; total: number }> {
    const { command, parameters } = validateCommand(req.command, req.parameters);
    if (command === 'stop_session') throw new CommandInputError('command', 'stop_session names one session of one charger; it cannot be sent in bulk');
    let ids: string[];
    if (req.siteId !== undefined) {
      const found = await siteChargers(this.db, req.tenantId, req.siteId, this.opts.bulkMax + 1);
      if (!found) throw new CommandNotFoundError('site', 'site_id');
      ids = found;
    } else {
      ids = [...new Set(req.chargePointIds ?? [])];
      const known = await tenantChargers(this.db, req.tenantId, ids);
      const unknown = ids.find((id) => !known.has(id));
      if (unknown !== undefined) throw new CommandNotFoundError('charger', 'charge_point_ids');
    }
    if (ids.length > this.opts.bulkMax) throw new CommandInputError(req.siteId ? 'site_id' : 'charge_point_ids', `a bulk command may address at most ${this.opts.bulkMax} chargers`);
    const bulkId = newId('cmb');
    const items = ids.map((chargePointId) => ({ commandId: newId('cmd'), chargePointId }));
    const stored = storedParameters(command, parameters);
    await this.db.transaction((tx) =>
      insertBulk(tx, { bulkId, tenantId: req.tenantId, command, parameters: stored, requestedBy: req.requestedBy, timeoutMs: req.timeoutMs, nodeId: this.opts.nodeId }, items),
    );
    let left = items.length;
    const finished = () => {
      if (--left === 0) void completeBulk(this.db, bulkId).catch((err) => this.log.error({ err, bulk_id: bulkId }, 'could not mark a bulk command complete'));
    };
    if (items.length === 0) await completeBulk(this.db, bulkId);
    for (const item of items) {
      const job: Job = { commandId: item.commandId, chargePointId: item.chargePointId, command, parameters, timeoutMs: req.timeoutMs };
      this.enqueueBulk(async () => {
        if (this.closed) await this.complete(job, interrupted());
        else await this.execute(job);
        finished();
      });
    }
    return { bulk_id: bulkId, total: items.length };
  }

  get(tenantId: string, commandId: string): Promise<CommandRow | undefined> {
    return getCommand(this.db, tenantId, commandId);
  }

  list(tenantId: string, filter: CommandFilter, page: Page): Promise<{ rows: CommandRow[]; total: number }> {
    return listCommands(this.db, tenantId, filter, page);
  }

  getBulk(tenantId: string, bulkId: string): Promise<BulkRow | undefined> {
    return getBulk(this.db, tenantId, bulkId);
  }

  private async sessionTransaction(tenantId: string, cp: string, sessionId: string): Promise<string> {
    const s = await getSession(this.db, tenantId, sessionId);
    if (!s) throw new CommandNotFoundError('session', 'parameters.session_id');
    if (s.charge_point_id !== cp) throw new CommandInputError('parameters.session_id', `session ${sessionId} is not on charger ${cp}`);
    if (s.status !== 'active') throw new CommandConflictError('session_not_active', `session ${sessionId} has already ended`, 'parameters.session_id');
    return s.transaction_id;
  }

  private enqueueBulk(run: () => Promise<void>): void {
    this.bulkQueue.push(run);
    this.pumpBulk();
  }

  private pumpBulk(): void {
    while (this.bulkActive < this.opts.bulkConcurrency && this.bulkQueue.length > 0) {
      const run = this.bulkQueue.shift()!;
      this.bulkActive++;
      this.track(
        run()
          .catch((err) => this.log.error({ err }, 'bulk command item failed'))
          .finally(() => {
            this.bulkActive--;
            this.pumpBulk();
          }),
      );
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }

  /**
   * Runs `prepare` for a charger after the earlier commands to it reached the transport, and
   * resolves with what `prepare` returns once that command is queued there: the
   * transport's queue then holds them in the order the requests arrived, though each is
   * recorded (a database round trip) before it is queued.
   */
  private inArrivalOrder(cp: string, prepare: () => Promise<{ done: Promise<void> }>): Promise<{ done: Promise<void> }> {
    const previous = this.arrivals.get(cp) ?? Promise.resolve();
    const queued = previous.then(prepare, prepare);
    const settled = queued.then(() => undefined, () => undefined);
    this.arrivals.set(cp, settled);
    void settled.then(() => {
      if (this.arrivals.get(cp) === settled) this.arrivals.delete(cp);
    });
    return queued;
  }

  /** Maps, sends and records one command whose record exists; never rejects for the charger's sake. */
  private async execute(job: Job): Promise<void> {
    const { done } = await this.begin(job);
    await done;
  }

  /**
   * Maps the command and hands its CALL to the transport; resolves as soon as it is queued there,
   * with `done` for its end (wrapped, so awaiting begin() does not wait for the answer).
   */
  private async begin(job: Job): Promise<{ done: Promise<void> }> {
    const deadline = Date.now() + job.timeoutMs;
    let version: string | undefined;
    let call: OcppCall | undefined;
    try {
      version = await this.transport.ocppVersion(job.chargePointId);
      if (!version) return { done: this.complete(job, { status: 'Offline', ocppVersion: null, ocppAction: null, response: null, error: null, roundTripMs: null }) };
      const adapter = adapterFor(version);
      if (!adapter) throw new NotSupportedByVersion(`OCPP ${version} has no command mapping`);
      const mapped = await adapter.toCall(job.command, job.parameters, { transactionId: job.transactionId, requestId: () => nextRequestId(this.db), now: new Date() });
      call = mapped;
      const v = version;
      const sent = this.transport.call(job.chargePointId, mapped.action, mapped.payload, deadline);
      return { done: sent.then((outcome) => this.complete(job, completionOf(outcome, v, mapped, adapter.outcome.bind(adapter)))) };
    } catch (err) {
      if (err instanceof NotSupportedByVersion) {
        return { done: this.complete(job, { status: 'NotSupported', ocppVersion: version ?? null, ocppAction: call?.action ?? null, response: null, error: { code: 'NotSupportedByVersion', description: err.message }, roundTripMs: null }) };
      }
      this.log.error({ err, charge_point_id: job.chargePointId, command: job.command }, 'command failed');
      return { done: this.complete(job, { status: 'Error', ocppVersion: version ?? null, ocppAction: call?.action ?? null, response: null, error: { code: 'InternalError', description: 'the command could not be sent' }, roundTripMs: null }) };
    }
  }

  /** The one place a command's outcome is recorded (and, later, published as a fleet event). */
  private async complete(job: Job, c: CommandCompletion): Promise<void> {
    try {
      await completeCommand(this.db, job.commandId, c);
      this.outcomes.inc({ command: job.command, status: c.status });
    } catch (err) {
      // The record stays Pending; recovery marks it Interrupted once this node stops.
      this.log.error({ err, command_id: job.commandId }, 'could not record a command outcome');
    }
  }
}

class ClaimLost extends Error {}

const interrupted = (): CommandCompletion => ({
  status: 'Error', ocppVersion: null, ocppAction: null, response: null, roundTripMs: null,
  error: { code: 'Interrupted', description: 'the node stopped before the command was sent' },
});

/** How a transport outcome reads as a command status (docs/commands.md, statuses). */
function completionOf(o: CallOutcome, version: string, call: OcppCall, outcomeOf: (action: string, response: unknown) => 'Accepted' | 'Rejected' | 'NotSupported'): CommandCompletion {
  const base = { ocppVersion: version, ocppAction: call.action };
  switch (o.kind) {
    case 'result':
      return { ...base, status: outcomeOf(call.action, o.payload), response: maskOcppSecrets(call.action, o.payload), error: null, roundTripMs: o.roundTripMs };
    case 'error': {
      // OCPP-J: NotImplemented (unknown action) and NotSupported (known, not implemented) say the charger lacks it.
      const notSupported = o.code === 'NotImplemented' || o.code === 'NotSupported';
      return { ...base, status: notSupported ? 'NotSupported' : 'Error', response: null, error: { code: o.code, description: o.description, details: o.details }, roundTripMs: o.roundTripMs };
    }
    case 'timeout':
      return { ...base, status: 'Timeout', response: null, error: o.sent ? null : { code: 'NotSent', description: 'the deadline passed while earlier commands to this charger were in flight' }, roundTripMs: null };
    case 'offline':
      return { ...base, status: 'Offline', response: null, error: null, roundTripMs: null };
    case 'lost':
      return { ...base, status: 'Error', response: null, error: { code: 'ConnectionLost', description: 'the connection closed before the charger answered' }, roundTripMs: null };
    case 'failed':
      return { ...base, status: 'Error', response: null, error: { code: 'NotSent', description: o.message }, roundTripMs: null };
  }
}

/** The parameters as recorded: a secret configuration value is never stored in clear. */
function storedParameters(command: CommandName, p: CommandParams): Record<string, unknown> {
  const params = p as Record<string, unknown>;
  if (command === 'change_configuration' && isSecretKey(params.key)) return { ...params, value: MASK };
  return params;
}
