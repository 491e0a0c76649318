import { connect, ErrorCode, type NatsConnection, type NatsError, type Subscription } from 'nats';
import { BusError, BusTimeoutError, NoResponderError, checkTopic, type Bus } from './bus.js';

export interface NatsBusOptions {
  /** nats://[user:password@]host:port, or tls://… for TLS with the system's CAs. */
  url: string;
  /** First word of every subject: clusters (or test runs) sharing one NATS stay apart. */
  prefix: string;
  nodeId: string;
}

/** What travels back: the handler's answer, or why it failed (never a stack). */
type Reply = { ok: true; body: unknown } | { ok: false; error: string };

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The bus on NATS core (no JetStream: nothing here needs to be durable, the database is).
 * Requests to a node go to `<prefix>.node.<nodeId>.<topic>`, broadcasts to `<prefix>.all.<topic>`.
 * NATS answers "no responders" at once when nobody subscribes to a subject, which is how a
 * request to a dead node fails fast instead of waiting for its timeout.
 */
export class NatsBus implements Bus {
  private readonly subs = new Set<Subscription>();
  private readonly working = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    readonly nodeId: string,
  ) {}

  /** Connects, or throws a BusError naming the server (never its credentials). */
  static async connect(o: NatsBusOptions, onStatus?: (event: string) => void): Promise<NatsBus> {
    const u = new URL(o.url);
    const server = `${u.hostname}:${u.port || 4222}`;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: server,
        ...(u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {}),
        ...(u.protocol === 'tls:' ? { tls: {} } : {}),
        name: o.nodeId,
        // Once up, keep trying for ever: a node without the bus still serves its chargers, and the
        // lease sweep (not the bus) keeps one node per charger meanwhile.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        timeout: 5_000,
      });
    } catch (err) {
      throw new BusError(`NATS at ${server} is unreachable: ${(err as Error).message}`);
    }
    if (onStatus) {
      void (async () => {
        for await (const s of nc.status()) onStatus(s.type);
      })().catch(() => undefined);
    }
    return new NatsBus(nc, o.prefix, o.nodeId);
  }

  async request(to: string, topic: string, body: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) throw new BusError('the bus is closed');
    let reply: Reply;
    try {
      const m = await this.nc.request(this.nodeSubject(to, topic), enc.encode(JSON.stringify(body ?? null)), { timeout: timeoutMs });
      reply = JSON.parse(dec.decode(m.data)) as Reply;
    } catch (err) {
      const code = (err as NatsError).code;
      if (code === ErrorCode.NoResponders) throw new NoResponderError(`no node ${to} answers ${topic}`);
      if (code === ErrorCode.Timeout) throw new BusTimeoutError(`node ${to} did not answer ${topic} within ${timeoutMs} ms`);
      throw new BusError(`bus request to ${to} failed: ${(err as Error).message}`);
    }
    if (!reply.ok) throw new BusError(`node ${to} failed on ${topic}: ${reply.error}`);
    return reply.body;
  }

  async answer(topic: string, handler: (body: unknown) => Promise<unknown>): Promise<void> {
    this.subscribe(this.nodeSubject(this.nodeId, topic), (data, respond) => {
      const work = Promise.resolve()
        .then(() => handler(JSON.parse(dec.decode(data))))
        .then(
          (body): Reply => ({ ok: true, body: body ?? null }),
          (err: unknown): Reply => ({ ok: false, error: (err as Error)?.message ?? String(err) }),
        )
        .then((r) => respond(enc.encode(JSON.stringify(r))));
      this.working.add(work);
      void work.finally(() => this.working.delete(work));
    });
    // The server knows the subscription once it answered a round trip after it.
    await this.nc.flush();
  }

  broadcast(topic: string, body: unknown): void {
    if (this.closed || this.nc.isClosed()) return;
    this.nc.publish(`${this.prefix}.all.${checkTopic(topic)}`, enc.encode(JSON.stringify(body ?? null)));
  }

  listen(topic: string, handler: (body: unknown) => void): () => void {
    const sub = this.subscribe(`${this.prefix}.all.${checkTopic(topic)}`, (data) => handler(JSON.parse(dec.decode(data))));
    return () => {
      sub.unsubscribe();
      this.subs.delete(sub);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs) s.unsubscribe();
    await Promise.allSettled([...this.working]);
    await this.nc.flush().catch(() => undefined);
    await this.nc.close();
  }

  private nodeSubject(node: string, topic: string): string {
    if (!/^[\w-]+$/.test(node)) throw new BusError(`"${node}" is not a node id`);
    return `${this.prefix}.node.${node}.${checkTopic(topic)}`;
  }

  private subscribe(subject: string, onMessage: (data: Uint8Array, respond: (d: Uint8Array) => void) => void): Subscription {
    const sub = this.nc.subscribe(subject, {
      callback: (err, m) => {
        if (err) return;
        try {
          onMessage(m.data, (d) => void m.respond(d));
        } catch {
          // A message that is not JSON came from something that is not a node: dropped.
        }
      },
    });
    this.subs.add(sub);
    return sub;
  }
}
