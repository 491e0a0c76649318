// Listeners attached to a Dynamo under benchmark (docs/benchmarks.md "Ingest with listeners"):
// N webhook endpoints, each with a real HTTP receiver in this process. The receivers answer at
// once and check the X-Dynamo-Signature of every 50th request, so the figures are of signed,
// accepted deliveries. And M clients of the live event stream (GET /api/v1/cpo/events, every
// event of the tenant), each reading as fast as it can and counting the events it was sent.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListenerOptions {
  webhooks: number;
  sse: number;
}

export interface ListenerStats {
  /** Webhook requests received, over all receivers. */
  webhookRequests: number;
  /** Sampled requests whose X-Dynamo-Signature did not verify (must be 0). */
  badSignatures: number;
  /** Events received over all stream clients. */
  sseEvents: number;
  /** Stream clients whose stream ended before close() (cut off as too slow, or failed). */
  sseEnded: number;
}

export interface Listeners {
  stats(): ListenerStats;
  close(): Promise<void>;
}

/** The environment a server needs so that local receivers are allowed targets. */
export const LISTENER_ENV = { DYNAMO_WEBHOOKS_ALLOW_HTTP: 'true', DYNAMO_WEBHOOKS_ALLOW_PRIVATE: 'true' };

export async function attachListeners(serverUrl: string, apiKey: string, o: ListenerOptions): Promise<Listeners> {
  const servers: Server[] = [];
  let webhookRequests = 0;
  let badSignatures = 0;
  let sseEvents = 0;
  let sseEnded = 0;
  const streams = new AbortController();
  const reading: Promise<void>[] = [];
  for (let i = 0; i < o.sse; i++) {
    const res = await fetch(`${serverUrl}/api/v1/cpo/events`, { headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' }, signal: streams.signal });
    if (res.status !== 200 || !res.body) throw new Error(`opening an event stream: ${res.status}`);
    const body = res.body;
    reading.push(
      (async () => {
        let tail = '';
        try {
          for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
            // Each event has one id line; count them across chunk boundaries.
            const text = tail + Buffer.from(chunk).toString('utf8');
            const lines = text.split('\n');
            tail = lines.pop()!;
            for (const l of lines) if (l.startsWith('id: ')) sseEvents++;
          }
          sseEnded++;
        } catch {
          if (!streams.signal.aborted) sseEnded++;
        }
      })(),
    );
  }
  for (let i = 0; i < o.webhooks; i++) {
    let secret = '';
    let n = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        webhookRequests++;
        if (n++ % 50 === 0) {
          const expected = `sha256=${createHmac('sha256', secret).update(Buffer.concat(chunks)).digest('hex')}`;
          if (req.headers['x-dynamo-signature'] !== expected) badSignatures++;
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const r = await fetch(`${serverUrl}/api/v1/webhooks/endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url, events: ['*'], description: `bench receiver ${i + 1}` }),
    });
    const body = (await r.json()) as { secret?: string };
    if (r.status !== 201 || !body.secret) throw new Error(`creating a webhook endpoint: ${r.status} ${JSON.stringify(body)}`);
    secret = body.secret;
  }
  return {
    stats: () => ({ webhookRequests, badSignatures, sseEvents, sseEnded }),
    close: async () => {
      streams.abort();
      await Promise.all(reading);
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      );
    },
  };
}

/** One sample of a Prometheus counter or gauge from the server's /metrics (0 when absent). */
export async function scrape(serverUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
