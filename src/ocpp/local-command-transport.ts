import type { CallOutcome, ChargerCommandTransport } from '../commands/transport.js';
import type { ChargerConnection } from './connection.js';
import { versionOf } from './protocols.js';
import { TimeoutError } from './ocpp-rpc-cjs.js';
import { ServerCallQueue } from './server-call-queue.js';
import type { RPCServerClient } from './rpc-types.js';

/** The gateway's side: the charger's live connection on this node, if any. */
export interface LiveConnections {
  connectionOf(chargePointId: string): ChargerConnection | undefined;
}

/**
 * Commands to chargers connected to this node, over their ocpp-rpc clients. One queue per
 * charger (not per connection): a CALL waiting while the charger reconnects goes out on the
 * new connection if its deadline allows.
 */
export class LocalCommandTransport implements ChargerCommandTransport {
  private readonly queues = new Map<string, ServerCallQueue>();

  constructor(private readonly live: LiveConnections) {}

  async ocppVersion(cp: string): Promise<string | undefined> {
    const conn = this.live.connectionOf(cp);
    return conn && !conn.closeReason ? versionOf(conn.protocol) : undefined;
  }

  call(cp: string, action: string, payload: Record<string, unknown>, deadline: number): Promise<CallOutcome> {
    let queue = this.queues.get(cp);
    if (!queue) this.queues.set(cp, (queue = new ServerCallQueue()));
    const q = queue;
    return q
      .run<CallOutcome>(deadline, () => this.send(cp, action, payload, deadline), () => ({ kind: 'timeout', sent: false }))
      .finally(() => {
        if (q.size === 0 && this.queues.get(cp) === q) this.queues.delete(cp);
      });
  }

  private async send(cp: string, action: string, payload: Record<string, unknown>, deadline: number): Promise<CallOutcome> {
    const conn = this.live.connectionOf(cp);
    if (!conn || conn.closeReason) return { kind: 'offline' };
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { kind: 'timeout', sent: false };
    const client: RPCServerClient = conn.client;
    // ocpp-rpc emits 'call' right before the frame goes out, after its own schema check: a
    // failure before it means nothing was sent.
    let sentAt = 0;
    const onCall = (e: { outbound: boolean; payload: unknown[] }) => {
      if (e.outbound && e.payload[2] === action && !sentAt) sentAt = Date.now();
    };
    client.on('call', onCall);
    try {
      const result = await client.call(action, payload, { callTimeoutMs: remaining });
      return { kind: 'result', payload: result, roundTripMs: Date.now() - sentAt };
    } catch (err) {
      const e = err as Error & { rpcErrorCode?: string; rpcErrorMessage?: string; details?: unknown };
      if (!sentAt) return conn.closeReason || /not open/i.test(e.message) ? { kind: 'offline' } : { kind: 'failed', message: e.message };
      if (e instanceof TimeoutError) return { kind: 'timeout', sent: true };
      if (e.name === 'AbortError') return { kind: 'lost', roundTripMs: Date.now() - sentAt };
      if (e.rpcErrorCode) return { kind: 'error', code: e.rpcErrorCode, description: e.message, details: e.details ?? {}, roundTripMs: Date.now() - sentAt };
      return { kind: 'lost', roundTripMs: Date.now() - sentAt };
    } finally {
      client.off('call', onCall);
    }
  }
}
