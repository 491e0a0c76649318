import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { RPCServer, createRPCError } from 'ocpp-rpc';
import { NOREPLY, RPCError } from './ocpp-rpc-cjs.js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ApplyResult, ChargerEvent } from '../ingest/events.js';
import type { SeenTracker } from '../ingest/seen-tracker.js';
import type { DisconnectReason } from '../store/history/connections.js';
import type { Admission } from './admission.js';
import { CallQueue } from './call-queue.js';
import { ChargerConnection, type Handler, type HandlerContext } from './connection.js';
import { LenientValidator } from './lenient.js';
import { guardFrames } from './frame-guard.js';
import { captureFrames, type FrameSink } from './message-capture.js';
import type { ForwardedClientCert } from './forwarded-cert.js';
import { repairedValidators } from './schemas.js';
import { checkStorableText } from './storable.js';
import { Liveness } from './liveness.js';
import { SUPPORTED_PROTOCOLS, pickProtocol, versionOf, type OcppProtocol } from './protocols.js';
import type { Handshake, RPCServerClient } from './rpc-types.js';
import { UpgradeLeftovers } from './upgrade-leftovers.js';
import { IdleClientTrim } from './idle-client.js';
import { v16Handlers } from './v16/index.js';
import { v2Handlers } from './v201/index.js';

/** Why another part of the system closes a charger's connection on this node. */
export type ReleaseReason = 'replaced' | 'deregistered' | 'credentials_changed';

export interface GatewayDeps {
  ingest: { submit(events: readonly ChargerEvent[]): Promise<ApplyResult[]> };
  seen: SeenTracker;
  admission: Admission;
  log: Logger;
  metrics: Registry;
  nodeId: string;
  heartbeatIntervalSec: number;
  maxPayloadBytes: number;
  maxBadMessages: number;
  maxPendingCalls: number;
  trustProxy: boolean;
  /** The raw message log (docs/api.md): every frame in and out; absent when the log is off. */
  frames?: FrameSink;
  /** A client certificate a TLS-terminating proxy verified and forwarded (only with trustProxy). */
  forwardedClientCert?: ForwardedClientCert;
  /** One node per charger (docs/operations.md "Cluster"); absent, this node assumes it is alone. */
  holds?: HoldHooks;
}

export interface HoldHooks {
  /** A new connection here took the charger over from another node's connection: that node must let go. */
  replaced(chargePointId: string, previous: { nodeId: string; connectionId: number }): void;
  /** False while this node's lease may have lapsed: it then answers no frame, another node may hold its chargers. */
  leaseFresh(): boolean;
}

// A Map per protocol: its keys are the actions a connection answers (IdleClientTrim.handleActions),
// and a lookup by a name like an Object.prototype member finds nothing.
const V2_HANDLERS: ReadonlyMap<string, Handler> = new Map(Object.entries(v2Handlers));
const HANDLERS: Record<OcppProtocol, ReadonlyMap<string, Handler>> = {
  'ocpp1.6': new Map(Object.entries(v16Handlers)),
  'ocpp2.0.1': V2_HANDLERS,
  'ocpp2.1': V2_HANDLERS,
};

/**
 * The OCPP-J endpoint (DESIGN.md §2, §4): admission at the HTTP upgrade,
 * subprotocol negotiation, strict validation by ocpp-rpc, one handler per
 * message, and the connection lifecycle (replacement, liveness, shutdown).
 */
export class OcppGateway {
  private readonly rpc: RPCServer;
  /** ocpp-rpc's upgrade handler; its getter makes a new function each time it is read. */
  private readonly rpcUpgrade: RPCServer['handleUpgrade'];
  private readonly leftovers = new UpgradeLeftovers();
  private readonly idle = new IdleClientTrim();
  private readonly live = new Map<string, ChargerConnection>();
  private readonly liveness: Liveness;
  private readonly lenient = new Map<string, LenientValidator>();
  private readonly enabled: OcppProtocol[];
  private accepting = true;
  private readonly messages: Counter;
  private readonly rejected: Counter;
  private readonly dropped: Counter;
  private readonly answerSeconds: Histogram;
  private readonly unanswered: Counter;

  constructor(private readonly deps: GatewayDeps) {
    this.enabled = SUPPORTED_PROTOCOLS.filter((p) => HANDLERS[p]);
    this.rpc = new RPCServer({
      protocols: [...this.enabled],
      strictMode: true,
      strictModeValidators: repairedValidators(),
      // Our own liveness replaces ocpp-rpc's keep-alive, which drops chargers that never answer pings.
      pingIntervalMs: 0,
      callTimeoutMs: 30_000,
      maxBadMessages: deps.maxBadMessages,
      respondWithDetailedErrors: false,
      // Hard limit; frames between the soft limit (maxPayloadBytes) and this are refused one by one (frame-guard.ts).
      wssOptions: { maxPayload: deps.maxPayloadBytes * 4 },
    });
    this.rpcUpgrade = this.rpc.handleUpgrade;
    // Every path a network peer reaches ends in a catch: an unhandled rejection would end the process.
    this.rpc.auth((accept, reject, handshake) =>
      this.admit(accept, reject, handshake).catch((err) => {
        this.deps.log.error({ err, charge_point_id: handshake.identity }, 'OCPP admission failed');
        reject(500, 'internal error');
      }),
    );
    this.rpc.on('client', (client: RPCServerClient) =>
      this.onClient(client).catch((err) => {
        this.deps.log.error({ err, charge_point_id: client.identity }, 'OCPP connection setup failed');
        void client.close({ code: 1011, reason: 'internal error', force: true }).catch(() => undefined);
      }),
    );
    this.liveness = new Liveness(this.live, deps.heartbeatIntervalSec, (conn) =>
      this.closeConnection(conn, 'liveness_timeout', new Date(conn.lastHeardAt)),
    );

    this.messages = new Counter({ name: 'dynamo_ocpp_messages_total', help: 'OCPP CALLs received, by action and outcome', labelNames: ['action', 'outcome'], registers: [deps.metrics] });
    this.rejected = new Counter({ name: 'dynamo_ocpp_admissions_rejected_total', help: 'Refused OCPP upgrades by HTTP status', labelNames: ['status'], registers: [deps.metrics] });
    this.dropped = new Counter({ name: 'dynamo_ocpp_meter_values_dropped_total', help: 'Sampled values not stored (measurand rule)', registers: [deps.metrics] });
    // From the handler's call (after ocpp-rpc parsed and validated the frame) to its answer, the wait
    // behind the connection's earlier CALLs and the commit of its events included: the server's part
    // of the latency a charger sees (the network, parsing and the send are not in it).
    this.answerSeconds = new Histogram({
      name: 'dynamo_ocpp_answer_seconds',
      help: 'Time from an OCPP CALL reaching its handler to its answer, queueing and commit included',
      // Up to 30 s, the CALL timeout of ocpp-rpc and of most chargers: an answer later than that is lost.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [deps.metrics],
    });
    this.unanswered = new Counter({
      name: 'dynamo_ocpp_calls_unanswered_total',
      help: 'OCPP CALLs left unanswered on purpose (the charger sends them again), by why: shutdown, closing, lease',
      labelNames: ['reason'],
      registers: [deps.metrics],
    });
    const live = this.live;
    new Gauge({ name: 'dynamo_ocpp_connections', help: 'Open OCPP connections on this node', registers: [deps.metrics], collect() { this.set(live.size); } });
  }

  start(): void {
    this.liveness.start();
  }

  /** The HTTP server's 'upgrade' listener: only /ocpp/… paths reach OCPP. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!this.accepting || !path.startsWith('/ocpp/') || path.endsWith('/')) {
      socket.end(`HTTP/1.1 ${this.accepting ? '404 Not Found' : '503 Service Unavailable'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    // ocpp-rpc decodes the identity before its own error handling starts: a malformed escape
    // (/ocpp/%FF) would reject its promise. Refuse it here, and catch whatever else it throws.
    if (!isDecodable(path)) {
      this.rejected.inc({ status: '400' });
      this.deps.log.info({ status: 400, reason: 'malformed percent-encoding' }, 'OCPP connection refused');
      writeRefusal(socket, 400, 'the path is not valid percent-encoding');
      return;
    }
    this.leftovers.upgrade(socket, () => this.rpcUpgrade(req, socket as never, head)).catch((err: unknown) => {
      this.deps.log.error({ err }, 'OCPP upgrade failed');
      if (!socket.destroyed) writeRefusal(socket, 500, 'internal error');
    });
  };

  isConnected(cp: string): boolean {
    return this.live.has(cp);
  }

  /** The charger's live connection on this node (the local command transport sends through it). */
  connectionOf(cp: string): ChargerConnection | undefined {
    return this.live.get(cp);
  }

  /** Closes a charger's connection on this node, recording why. */
  async disconnect(cp: string, reason: DisconnectReason): Promise<void> {
    const conn = this.live.get(cp);
    if (conn) await this.closeConnection(conn, reason, new Date());
  }

  /** Closes this node's connection of a charger (only `connectionId`, when given); false when there is none. */
  async release(cp: string, reason: ReleaseReason, connectionId?: number): Promise<boolean> {
    const conn = this.live.get(cp);
    if (!conn || (connectionId !== undefined && (await conn.connected.catch(() => 0)) !== connectionId)) return false;
    await this.closeConnection(conn, reason, new Date());
    return true;
  }

  /**
   * The lease sweep: `held` is what the database said, at `queriedAt`, this node holds. A connection
   * recorded before that whose charger is no longer held through it was taken over elsewhere (and
   * the message saying so was lost): it is closed, so one node holds a charger even without the bus.
   */
  async reconcile(held: ReadonlyMap<string, number>, queriedAt: number): Promise<number> {
    const lost = [...this.live.values()].filter((c) => c.connectionId > 0 && c.heldSince > 0 && c.heldSince < queriedAt && held.get(c.cp) !== c.connectionId);
    await Promise.all(lost.map((c) => this.closeConnection(c, 'replaced', new Date())));
    return lost.length;
  }

  /**
   * This node was presumed dead (its lease lapsed and another node recovered it): every charger is
   * let go so it reconnects to a node whose lease holds. Recovery already closed what it knew of;
   * a disconnect recorded now only closes what was opened since.
   */
  async dropAll(reason: DisconnectReason): Promise<number> {
    const conns = [...this.live.values()];
    await Promise.all(conns.map((c) => this.closeConnection(c, reason, new Date())));
    return conns.length;
  }

  /** Drain, first step: new upgrades are refused (503) so the load balancer sends chargers elsewhere. */
  stopAccepting(): void {
    this.accepting = false;
  }

  get draining(): boolean {
    return !this.accepting;
  }

  /** Stops accepting, lets in-flight CALLs finish, records every disconnect as a server shutdown. */
  async close(): Promise<void> {
    this.accepting = false;
    this.liveness.stop();
    const conns = [...this.live.values()];
    await Promise.all(conns.map((c) => this.closeConnection(c, 'server_shutdown', new Date(), true)));
    await this.rpc.close({ code: 1001, reason: 'server shutdown', awaitPending: true });
  }

  private async admit(
    accept: (session?: Record<string, unknown>, protocol?: string) => void,
    reject: (code: number, message: string) => void,
    handshake: Handshake & Required<Pick<Handshake, 'request' | 'headers' | 'protocols'>>,
  ): Promise<void> {
    const remoteAddress = this.remoteAddress(handshake);
    const refuse = (status: number, reason: string, retryAfterSec?: number) => {
      this.rejected.inc({ status: String(status) });
      // Wrong credentials and throttling are what a password guesser produces: warn.
      const level = status === 401 || status === 429 ? 'warn' : 'info';
      this.deps.log[level]({ charge_point_id: handshake.identity, remoteAddress, status, reason, retryAfterSec }, 'OCPP connection refused');
      // ocpp-rpc writes the refusal and destroys the socket at once, which on TLS can drop the
      // response before it is sent (the charger sees a reset, not the 401): send it ourselves,
      // and let ocpp-rpc clean up once it has gone out.
      const socket = handshake.request.socket;
      if (!socket.writable) return reject(status, reason);
      socket.once('finish', () => reject(status, reason));
      writeRefusal(socket, status, reason, retryAfterSec ? { 'Retry-After': String(retryAfterSec) } : {});
    };
    try {
      const protocol = pickProtocol(handshake.protocols, this.enabled);
      if (!protocol) return refuse(400, `no common subprotocol; this server speaks ${this.enabled.join(', ')}`);
      const result = await this.deps.admission.admit(handshake.identity, handshake.password, this.clientCertCn(handshake.request), remoteAddress);
      if (!result.ok) return refuse(result.status, result.reason, result.status === 429 ? result.retryAfterSec : undefined);
      accept({ tenantId: result.charger.tenant_id, lenient: result.charger.lenient, remoteAddress }, protocol);
    } catch (err) {
      this.deps.log.error({ err, charge_point_id: handshake.identity }, 'OCPP admission failed');
      refuse(503, 'temporarily unavailable');
    }
  }

  /** The CN of a client certificate verified by our TLS, or else by the proxy in front (Security Profile 3). */
  private clientCertCn(req: IncomingMessage): string | undefined {
    const direct = verifiedClientCn(req);
    if (direct !== undefined) return direct;
    const fwd = this.deps.forwardedClientCert;
    return fwd && this.deps.trustProxy ? fwd.commonName(req.headers[fwd.header]) : undefined;
  }

  private remoteAddress(h: { remoteAddress?: string; headers: IncomingMessage['headers'] }): string | null {
    const forwarded = h.headers['x-forwarded-for'];
    if (this.deps.trustProxy && typeof forwarded === 'string') return forwarded.split(',')[0]!.trim();
    return h.remoteAddress ?? null;
  }

  private async onClient(client: RPCServerClient): Promise<void> {
    this.leftovers.release(client.handshake);
    const session = client.session as { tenantId: string; lenient: boolean; remoteAddress: string | null };
    const cp = client.identity;
    const conn = new ChargerConnection(cp, client, client.protocol, session.tenantId, session.lenient, session.remoteAddress, Date.now());
    const previous = this.live.get(cp);
    this.live.set(cp, conn);
    if (session.lenient) client.reconfigure({ strictMode: false } as never);
    this.idle.trim(client);
    this.listen(conn);
    // OCPP-J: a newer connection with the same identity replaces the older one. `connected` is set
    // at once, so a close that comes while the older one is still being recorded waits for it
    // and is recorded after the Connected, never lost.
    conn.connected = this.recordConnected(conn, previous);
    try {
      await conn.connected;
      this.deps.log.info({ charge_point_id: cp, protocol: conn.protocol }, 'charger connected');
    } catch (err) {
      this.deps.log.error({ err, charge_point_id: cp }, 'could not record the connection; closing it');
      conn.closeReason = 'protocol_error';
      if (this.live.get(cp) === conn) this.live.delete(cp);
      await client.close({ code: 1011, reason: 'internal error', force: true });
    }
  }

  /**
   * The listeners a connection lives with. A method of its own so that their closures share a
   * scope with nothing else: in onClient they would keep the connection it replaced alive, and
   * that one the one before it (V8 gives all closures of a function one context).
   */
  private listen(conn: ChargerConnection): void {
    const client = conn.client;
    // Capture first, so the log sees every frame, the refused ones included.
    const capture = this.deps.frames ? captureFrames(conn, this.deps.frames) : undefined;
    guardFrames(client, conn.protocol, this.deps.maxPayloadBytes, this.deps.maxBadMessages, capture?.refused);
    client.on('message', (m: { outbound: boolean }) => !m.outbound && this.heard(conn));
    this.liveness.watch(conn, () => this.heard(conn));
    client.on('close', () => void this.onClosed(conn));
    this.registerHandlers(conn);
  }

  private async recordConnected(conn: ChargerConnection, previous: ChargerConnection | undefined): Promise<number> {
    if (previous) await this.closeConnection(previous, 'replaced', new Date());
    const [r] = await this.deps.ingest.submit([
      { type: 'Connected', cp: conn.cp, at: new Date(conn.lastHeardAt), nodeId: this.deps.nodeId, ocppVersion: versionOf(conn.protocol), remoteAddress: conn.remoteAddress },
    ]);
    conn.heldSince = Date.now();
    const took = r!.previousHolder;
    if (took && took.nodeId !== this.deps.nodeId) this.deps.holds?.replaced(conn.cp, took);
    return (conn.connectionId = r!.connectionId!);
  }

  private heard(conn: ChargerConnection): void {
    conn.lastHeardAt = Date.now();
    this.deps.seen.seen(conn, conn.lastHeardAt);
  }

  private registerHandlers(conn: ChargerConnection): void {
    const handlers = HANDLERS[conn.protocol as OcppProtocol] ?? new Map<string, Handler>();
    const calls = new CallQueue(this.deps.maxPendingCalls);
    // One function serves every action of a connection (ocpp-rpc passes the method): a closure per
    // action cost each idle connection about a kilobyte (docs/benchmarks.md, "Memory per connection").
    const onCall = ({ method, params }: { method?: string; params?: unknown }) => {
      const unanswered = this.unansweredBecause(conn);
      // Called only for the table's own actions (handleActions): the lookup always finds one.
      if (!unanswered) return this.timed(calls.run(() => this.handleCall(conn, method!, handlers.get(method!)!, params)));
      this.unanswered.inc({ reason: unanswered });
      return Promise.resolve(NOREPLY as never);
    };
    this.idle.handleActions(conn.client, handlers, onCall);
  }

  /**
   * Why a CALL on this connection gets no answer now, if it gets none. Once shutdown began the
   * disconnect is recorded: a CALL arriving now is neither stored nor answered, so the charger sends
   * it again to whichever node it reconnects to. The same for a connection being closed (another
   * node took the charger over) and while this node's lease may have lapsed (another node may be
   * recovering it): only the holder of a charger stores its frames.
   */
  private unansweredBecause(conn: ChargerConnection): 'shutdown' | 'closing' | 'lease' | undefined {
    if (!this.accepting) return 'shutdown';
    if (conn.closeReason) return 'closing';
    if (!(this.deps.holds?.leaseFresh() ?? true)) return 'lease';
    return undefined;
  }

  private timed<T>(answer: Promise<T>): Promise<T> {
    const end = this.answerSeconds.startTimer();
    return answer.finally(() => end());
  }

  /** One CALL: its events are submitted as one message (with its lenient-mode violation, if any), then answered. */
  private async handleCall(conn: ChargerConnection, action: string, handler: Handler, params: unknown): Promise<Record<string, unknown>> {
    // A lenient-mode violation travels with the message's own events, so both commit or neither does.
    const noted: ChargerEvent[] = [];
    const ctx: HandlerContext = {
      conn,
      submit: (events) => {
        const carried = noted.splice(0);
        return this.deps.ingest.submit([...carried, ...events]).then((results) => results.slice(carried.length));
      },
      heartbeat: (at) => this.deps.seen.seen(conn, at.getTime(), true),
      droppedSamples: (n) => n > 0 && this.dropped.inc(n),
      heartbeatIntervalSec: this.deps.heartbeatIntervalSec,
    };
    try {
      checkStorableText(params);
      let p = params;
      if (conn.lenient) {
        const checked = this.lenientCheck(conn, action, params);
        if (checked.note) noted.push(checked.note);
        p = checked.params;
      }
      const result = await handler(ctx, p as never);
      if (noted.length) await this.deps.ingest.submit(noted);
      this.messages.inc({ action, outcome: 'ok' });
      return result;
    } catch (err) {
      if (err instanceof RPCError) {
        this.messages.inc({ action, outcome: 'rejected' });
        throw err;
      }
      this.messages.inc({ action, outcome: 'internal_error' });
      this.deps.log.error({ err, charge_point_id: conn.cp, action }, 'OCPP message could not be processed');
      // Answered, never left silent: the charger will retry a transaction-related message.
      throw createRPCError('InternalError', 'the message could not be stored; retry later');
    }
  }

  private lenientCheck(conn: ChargerConnection, action: string, params: unknown): { params: unknown; note?: ChargerEvent } {
    let validator = this.lenient.get(conn.protocol);
    if (!validator) this.lenient.set(conn.protocol, (validator = new LenientValidator(conn.protocol)));
    const checked = validator.check(action, params);
    if (!checked.violation) return { params: checked.params };
    const now = new Date();
    return {
      params: checked.params,
      note: { type: 'Noted', cp: conn.cp, kind: 'SchemaViolation', payload: { action, ...checked.violation, params }, at: now, receivedAt: now },
    };
  }

  private async closeConnection(conn: ChargerConnection, reason: DisconnectReason, at: Date, graceful = false): Promise<void> {
    if (conn.closeReason) return;
    conn.closeReason = reason;
    if (this.live.get(conn.cp) === conn) this.live.delete(conn.cp);
    const closing = graceful
      ? Promise.resolve()
      : conn.client.close({ code: reason === 'liveness_timeout' || reason === 'lease_lost' ? 1001 : 1000, reason, force: reason === 'liveness_timeout' }).catch(() => undefined);
    await this.recordDisconnect(conn, reason, at);
    await closing;
  }

  private async onClosed(conn: ChargerConnection): Promise<void> {
    if (conn.closeReason) return;
    conn.closeReason = 'closed_by_charger';
    if (this.live.get(conn.cp) === conn) this.live.delete(conn.cp);
    await this.recordDisconnect(conn, 'closed_by_charger', new Date());
  }

  private async recordDisconnect(conn: ChargerConnection, reason: DisconnectReason, at: Date): Promise<void> {
    const connectionId = await conn.connected.catch(() => 0);
    if (!connectionId) return;
    try {
      await this.deps.ingest.submit([{ type: 'Disconnected', cp: conn.cp, connectionId, at, reason }]);
      this.deps.log.info({ charge_point_id: conn.cp, reason }, 'charger disconnected');
    } catch (err) {
      // The lease keeps the history honest: if this node dies with the interval open, recovery closes it.
      this.deps.log.error({ err, charge_point_id: conn.cp }, 'could not record the disconnect');
    }
  }
}

function isDecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** A plain HTTP refusal of an upgrade, written by us so it reaches the client before the socket closes. */
function writeRefusal(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

/** The subject CN of a client certificate that TLS verified against the configured CA, if any. */
function verifiedClientCn(req: IncomingMessage): string | undefined {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}
