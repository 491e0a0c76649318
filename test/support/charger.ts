import { RPCClient } from 'ocpp-rpc';
import WebSocket from 'ws';

export type ChargerClient = Omit<RPCClient, 'call'> & { call<T = any>(method: string, params?: unknown): Promise<T> };

/**
 * A charger speaking real OCPP-J over a real WebSocket (ocpp-rpc's client, not
 * strict, so tests can send what a misbehaving charger would).
 */
export async function connectCharger(
  wsUrl: string,
  identity: string,
  opts: { password?: string; protocols?: string[]; connect?: boolean } = {},
): Promise<ChargerClient> {
  const client = new RPCClient({
    endpoint: wsUrl,
    identity,
    password: opts.password,
    protocols: opts.protocols ?? ['ocpp1.6'],
    reconnect: false,
    strictMode: false,
    pingIntervalMs: 0,
    callTimeoutMs: 10_000,
  } as never) as ChargerClient;
  if (opts.connect !== false) await client.connect();
  return client;
}

/** The HTTP status of a refused upgrade, or 101 if it was accepted. `tls`: CA and client certificate for wss. */
export function upgradeStatus(
  url: string,
  protocols: string[],
  headers: Record<string, string> = {},
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, ...tls });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(String(err))) reject(err);
    });
  });
}

/** A raw WebSocket charger, for frames ocpp-rpc would never send. */
export async function rawCharger(url: string, protocol = 'ocpp1.6', opts: { autoPong?: boolean } = {}) {
  const ws = new WebSocket(url, [protocol], { autoPong: opts.autoPong ?? true });
  const inbox: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number }>((r) => ws.on('close', (code) => r({ code })));
  return {
    ws,
    closed,
    send(frame: string | unknown[]) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    next(): Promise<any> {
      const m = inbox.shift();
      if (m !== undefined) return Promise.resolve(m);
      return new Promise((r) => waiters.push(r));
    },
  };
}

export const isoAgo = (ms: number) => new Date(Date.now() - ms).toISOString();
