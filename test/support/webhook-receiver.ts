import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { eventually } from './history.js';

export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Wait this long before answering (a slow or hung receiver). */
  delayMs?: number;
}

/**
 * A real HTTP receiver on 127.0.0.1, port 0: records every request (raw body and headers) and
 * answers as `respond` says (200 by default). `respond` can be changed while the test runs.
 */
export async function aReceiver(respond: (r: Received, n: number) => Reply = () => ({ status: 200 })) {
  const received: Received[] = [];
  let behaviour = respond;
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const r: Received = { at: Date.now(), path: req.url ?? '', headers: req.headers, body, json };
      received.push(r);
      const reply = behaviour(r, received.length);
      const answer = () => {
        inFlight--;
        if (res.destroyed) return;
        res.writeHead(reply.status, reply.headers ?? {}).end('ok');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    /** Requests for log events (not test pings), by envelope id. */
    eventIds: () => received.filter((r) => r.json && !String(r.json.id).startsWith('test_')).map((r) => r.json.id as string),
    get maxInFlight() {
      return maxInFlight;
    },
    respondWith(fn: (r: Received, n: number) => Reply) {
      behaviour = fn;
    },
    waitFor(pred: (rs: Received[]) => boolean, timeoutMs = 20_000) {
      return eventually(async () => received, pred, timeoutMs);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export type Receiver = Awaited<ReturnType<typeof aReceiver>>;

/** X-Dynamo-Signature as a receiver checks it: HMAC-SHA256 of the raw body, keyed by the secret string. */
export function dynamoSignatureValid(secret: string, r: Received): boolean {
  const header = String(r.headers['x-dynamo-signature'] ?? '');
  const expected = `sha256=${createHmac('sha256', secret).update(r.body, 'utf8').digest('hex')}`;
  return header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}

/** Standard Webhooks, checked by the receiver-side library: throws unless id, timestamp and signature verify. */
export function standardSignatureValid(secret: string, r: Received): boolean {
  try {
    new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}
