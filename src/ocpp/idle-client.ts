import type { RPCServerClient } from './rpc-types.js';

/** The fields of ocpp-rpc's client (lib/client.js, 2.2.1, pinned in package-lock.json) that trim() touches. */
interface ClientInternals {
  _handlers?: unknown;
  _nextPingTimeout?: NodeJS.Timeout;
  _backoffStrategy?: object;
  _strictValidators?: Map<string, unknown>;
  _options?: { pingIntervalMs?: number; reconnect?: boolean };
}

/**
 * What ocpp-rpc's per-connection client builds for features a connection on this server never uses,
 * dropped or shared, so that an idle connection keeps less (issue #15's memory target;
 * docs/benchmarks.md, "Memory per idle connection"):
 *
 * - its keep-alive's timer. Pings are off here (liveness.ts sends its own); the client still arms
 *   a timer, clears it at once and keeps the cleared `Timeout` in `_nextPingTimeout`, read only to
 *   defer a next ping that never comes (clearing it again is for a version that would not);
 * - its reconnect backoff: a client on the server side has `reconnect: false`;
 * - its strict-mode validators: every client builds its own Map of the same validators (one per
 *   subprotocol, from the server's options); all clients share the first one's, as a Map that is
 *   only ever read (`get`, `has`), and a client that is reconfigured (lenient mode) builds a new one;
 * - its handler table (handleActions, below).
 *
 * Each step checks the field is as that version leaves it and does nothing otherwise, so another
 * version of the library costs memory, never behaviour; test/ocpp-connection-retention.test.ts
 * fails if a step stops applying.
 */
export class IdleClientTrim {
  private validators?: Map<string, unknown>;

  /**
   * Has `handler` answer every action that is a key of `actions` (the one function a connection
   * answers with).
   * ocpp-rpc keeps a client's handlers in a Map of its own, and one entry per action (10 for OCPP
   * 1.6, 12 for 2.x) cost each connection about 490 bytes of table; its CALL path only ever reads that Map
   * with get() (`_onCall`, before strict validation, so an action not in the table is NotImplemented
   * as before). Where the client is not as that version leaves it, the public handle() is used.
   */
  handleActions(client: RPCServerClient, actions: ReadonlyMap<string, unknown>, handler: CallHandler): void {
    const c = client as unknown as ClientInternals;
    if (c._handlers instanceof FixedActions) throw new Error('a connection registers its handlers once');
    if (c._handlers instanceof Map && c._handlers.size === 0) {
      c._handlers = new FixedActions(actions, handler);
      return;
    }
    for (const action of actions.keys()) client.handle(action, handler as never);
  }

  trim(client: RPCServerClient): void {
    const c = client as unknown as ClientInternals;
    if (c._options?.pingIntervalMs === 0 && c._nextPingTimeout !== undefined) {
      clearTimeout(c._nextPingTimeout);
      c._nextPingTimeout = undefined;
    }
    if (c._options?.reconnect === false) c._backoffStrategy = undefined;
    if (c._strictValidators instanceof Map) {
      if (this.validators && sameEntries(this.validators, c._strictValidators)) c._strictValidators = this.validators;
      else this.validators = c._strictValidators;
    }
  }
}

function sameEntries(a: Map<string, unknown>, b: Map<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export type CallHandler = (call: { method?: string; params?: unknown }) => Promise<unknown>;

/** A connection's handler table as ocpp-rpc's CALL path reads it: one handler, the protocol's actions. */
class FixedActions {
  constructor(
    private readonly actions: ReadonlyMap<string, unknown>,
    private readonly handler: CallHandler,
  ) {}

  get(method: string): CallHandler | undefined {
    return this.actions.has(method) ? this.handler : undefined;
  }

  // handle() and removeHandler() would write the table; the gateway never calls them after accept.
  set(): never {
    throw new Error('a connection answers a fixed set of actions (IdleClientTrim.handleActions)');
  }

  delete(): never {
    return this.set();
  }

  clear(): never {
    return this.set();
  }
}
