import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { RPCClient } from 'ocpp-rpc';
import type WebSocket from 'ws';

/** The per-connection client ocpp-rpc emits with 'client' (an RPCServerClient; its d.ts default export is not importable). */
export type RPCServerClient = RPCClient & {
  readonly identity: string;
  readonly protocol: string;
  readonly session: Record<string, unknown>;
  readonly handshake: Handshake;
};

/** The upgrade's handshake as a connection keeps it; what only admission reads is dropped once accepted (upgrade-leftovers.ts). */
export interface Handshake {
  readonly identity: string;
  readonly remoteAddress?: string;
  readonly endpoint?: string;
  request?: IncomingMessage;
  headers?: IncomingHttpHeaders;
  query?: URLSearchParams;
  protocols?: Set<string>;
  password?: Buffer;
}

/**
 * ocpp-rpc offers no public way to send a WebSocket ping outside its own
 * keep-alive, and that keep-alive drops a charger whose pong is late (DESIGN.md §3
 * forbids that), so liveness reaches the socket it wraps. The version is pinned
 * in package-lock.json and the liveness test proves the pings go out.
 */
export function socketOf(client: RPCServerClient): WebSocket | undefined {
  return (client as unknown as { _ws?: WebSocket })._ws;
}
