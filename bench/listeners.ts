// Listeners attached to a Dynamo under benchmark (docs/benchmarks.md "Ingest with listeners"):
// N webhook endpoints, each with a real HTTP receiver in this process. The receivers answer at
// once and check the X-Dynamo-Signature of every 50th request, so the figures are of signed,
// accepted deliveries. And M clients of the live event stream (GET /api/v1/cpo/events, every
// event of the tenant), each reading as fast as it can and counting the events it was sent.
import { setMaxListeners } from 'node:events';
import { createHmac } from 'node:crypto';
import { createServer, get as httpGet, type IncomingMessage, type Server } from 'node:http';
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
  // Every stream client listens to the one signal that ends them all.
  setMaxListeners(o.sse + 10, streams.signal);
  const reading: Promise<void>[] = [];
  // The clients share the machine with the server under test: node:http and a byte scan for the
  // "id: " of each event keep them cheap (a fetch body read as a web stream and split into lines
  // cost a large share of a core at these rates, and showed up as the server's cost).
  const ID = Buffer.from('\nid: ');
  for (let i = 0; i < o.sse; i++) {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpGet(`${serverUrl}/api/v1/cpo/events`, { headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' }, signal: streams.signal }, resolve);
      req.on('error', reject);
    });
    if (res.statusCode !== 200) throw new Error(`opening an event stream: ${res.statusCode}`);
    reading.push(
      new Promise<void>((resolve) => {
        // The first event follows the headers' blank line or a heartbeat: count "\nid: " from a leading newline.
        let carry: Buffer = Buffer.from('\n');
        res.on('data', (chunk: Buffer) => {
          // A marker split between chunks is found in the few bytes around the seam, so no chunk is copied whole.
          const seam = Buffer.concat([carry, chunk.subarray(0, ID.length - 1)]);
          if (seam.indexOf(ID) >= 0) sseEvents++;
          for (let at = chunk.indexOf(ID); at >= 0; at = chunk.indexOf(ID, at + ID.length)) sseEvents++;
          carry = Buffer.concat([carry, chunk.subarray(-(ID.length - 1))]).subarray(-(ID.length - 1));
        });
        res.on('end', () => {
          if (!streams.signal.aborted) sseEnded++;
          resolve();
        });
        res.on('error', () => {
          if (!streams.signal.aborted) sseEnded++;
          resolve();
        });
        res.on('close', () => resolve());
      }),
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

/** The server's /metrics text (Prometheus exposition). */
export async function fetchMetrics(serverUrl: string): Promise<string> {
  return (await fetch(`${serverUrl}/metrics`)).text();
}

/** One sample of a Prometheus counter or gauge from the server's /metrics (0 when absent). */
export async function scrape(serverUrl: string, series: string): Promise<number> {
  const line = (await fetchMetrics(serverUrl)).split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** A histogram's cumulative bucket counts in a /metrics text, by upper bound (Infinity for +Inf). */
export function bucketsOf(text: string, histogram: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${histogram}_bucket\\{le="([^"]+)"\\} (\\S+)$`).exec(line);
    if (m) buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  }
  return buckets;
}

/** A counter with one label in a /metrics text, by that label's value. */
export function byLabel(text: string, series: string, label: string): Record<string, number> {
  const found = text.matchAll(new RegExp(`^${series}\\{${label}="([^"]*)"\\} (\\S+)$`, 'gm'));
  return Object.fromEntries([...found].map((m) => [m[1]!, Number(m[2])]));
}

/** The sum of every sample of a series (all its label sets) in a /metrics text. */
export function sumOf(text: string, series: string): number {
  return text.split('\n').filter((l) => l.startsWith(series)).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

/**
 * Between two scrapes of one histogram: how many observations, the share at or under `within`
 * seconds, and the upper bound of the bucket holding the 99th percentile (buckets are coarse:
 * a bound, not a measurement).
 */
export function bucketDelta(before: Map<number, number>, after: Map<number, number>, within: number): { count: number; shareWithin: number; p99Bound: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = bounds.map((le) => ({ le, n: after.get(le)! - (before.get(le) ?? 0) }));
  const count = delta.at(-1)?.n ?? 0;
  const at = delta.find((b) => b.le >= within);
  return { count, shareWithin: count && at ? at.n / count : NaN, p99Bound: count ? delta.find((b) => b.n >= 0.99 * count)!.le : NaN };
}
