import type { Duplex } from 'node:stream';
import type { Handshake } from './rpc-types.js';

const SOCKET_EVENTS = ['error', 'end', 'close'] as const;
type Listener = (...args: unknown[]) => void;

/**
 * What ocpp-rpc's upgrade handler (lib/server.js, 2.2.1, pinned in package-lock.json) leaves behind
 * once a connection is accepted, so that an idle connection keeps only what it uses.
 *
 * While it waits for admission it puts an 'error', an 'end' and a 'close' listener on the raw socket
 * and never takes them off. Their closures hold the upgrade request (an `IncomingMessage` with its
 * headers and stream states), its URL and an `AbortController` for the connection's whole life, and
 * the connection's handshake holds the request and its headers again: about 4 KB of heap per idle
 * connection (docs/benchmarks.md, "Memory per idle connection"), and the charger's password with
 * them. Once accepted, the listeners do
 * nothing useful: 'end' and 'close' call a `reject` that is then a no-op, and 'error' would write an
 * HTTP 500 into a socket that speaks WebSocket by then (`ws` has its own error listener on it).
 */
export class UpgradeLeftovers {
  private readonly added = new WeakMap<Duplex, [string, Listener][]>();

  /**
   * Runs ocpp-rpc's upgrade handler and notes the listeners it adds to the socket. It adds them
   * before its first `await`; `ws` adds its own only once admission accepts, and the gateway's
   * admission always awaits before accepting (OcppGateway.admit), so the listeners noted here are
   * ocpp-rpc's alone. Were an accept ever synchronous, release() would run before anything is
   * noted and remove nothing: the connection would keep the old cost, never lose a listener.
   */
  upgrade(socket: Duplex, handle: () => Promise<void>): Promise<void> {
    const before = SOCKET_EVENTS.map((event) => new Set(socket.listeners(event)));
    const done = handle();
    this.added.set(
      socket,
      SOCKET_EVENTS.flatMap((event, i) => socket.listeners(event).filter((l) => !before[i]!.has(l)).map((l): [string, Listener] => [event, l as Listener])),
    );
    return done;
  }

  /**
   * Called once the connection is accepted: takes the noted listeners off the socket and drops from
   * the handshake what only admission reads (the request, its headers, query and subprotocols, the
   * password); its identity and remote address stay.
   */
  release(handshake: Handshake): void {
    const socket = handshake.request?.socket;
    if (socket) {
      for (const [event, listener] of this.added.get(socket) ?? []) socket.removeListener(event, listener);
      this.added.delete(socket);
    }
    handshake.request = handshake.headers = handshake.query = handshake.protocols = handshake.password = undefined;
  }
}
