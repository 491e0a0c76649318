import { BusError, BusTimeoutError, NoResponderError, checkTopic, type Bus } from './bus.js';

type Answerer = (body: unknown) => Promise<unknown>;

/**
 * Where in-process buses meet. The service gives each node a hub of its own (one node per process);
 * tests give several buses one hub to stand for several nodes.
 */
export class InProcessHub {
  readonly answerers = new Map<string, Map<string, Answerer>>();
  readonly listeners = new Map<string, Set<(body: unknown) => void>>();
}

/**
 * The bus of a single node (the default, no extra service). Messages are copied through JSON as on
 * the wire, so nothing can depend on sharing objects, and delivered asynchronously, never inside
 * the caller's own turn.
 */
export class InProcessBus implements Bus {
  private readonly mine = new Map<string, Answerer>();
  private readonly stops = new Set<() => void>();
  private readonly working = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    readonly nodeId: string,
    private readonly hub = new InProcessHub(),
  ) {
    hub.answerers.set(nodeId, this.mine);
  }

  async request(to: string, topic: string, body: unknown, timeoutMs: number): Promise<unknown> {
    checkTopic(topic);
    if (this.closed) throw new BusError('the bus is closed');
    const handler = this.hub.answerers.get(to)?.get(topic);
    if (!handler) throw new NoResponderError(`no node ${to} answers ${topic}`);
    const payload = copy(body);
    await new Promise((r) => setImmediate(r));
    let timer: NodeJS.Timeout | undefined;
    const work = handler(payload);
    try {
      return copy(
        await Promise.race([
          work.catch((err: unknown) => {
            throw new BusError(`node ${to} failed on ${topic}: ${(err as Error)?.message ?? err}`);
          }),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new BusTimeoutError(`node ${to} did not answer ${topic} within ${timeoutMs} ms`)), timeoutMs))),
        ]),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async answer(topic: string, handler: (body: unknown) => Promise<unknown>): Promise<void> {
    this.mine.set(checkTopic(topic), (body) => {
      const work = handler(body);
      this.working.add(work);
      void work.finally(() => this.working.delete(work)).catch(() => undefined);
      return work;
    });
  }

  broadcast(topic: string, body: unknown): void {
    checkTopic(topic);
    if (this.closed) return;
    const payload = JSON.stringify(body ?? null);
    for (const l of this.hub.listeners.get(topic) ?? []) setImmediate(() => l(JSON.parse(payload)));
  }

  listen(topic: string, handler: (body: unknown) => void): () => void {
    let set = this.hub.listeners.get(checkTopic(topic));
    if (!set) this.hub.listeners.set(topic, (set = new Set()));
    const l = (b: unknown) => handler(b);
    set.add(l);
    const stop = () => {
      set.delete(l);
      this.stops.delete(stop);
    };
    this.stops.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.hub.answerers.get(this.nodeId) === this.mine) this.hub.answerers.delete(this.nodeId);
    for (const stop of [...this.stops]) stop();
    await Promise.allSettled([...this.working]);
  }
}

const copy = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
