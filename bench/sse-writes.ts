// node dist/bench/sse-writes.js [--clients 20] [--batch 7] [--batches 2000] [--frames-only true]
// What writing the live stream costs the server per event per client (docs/benchmarks.md "Ingest
// with listeners"): @fastify/sse's send per event (corked per batch, as the route did) against one
// write per batch of the frames src/api/sse-frames.ts makes once per event, in the same run, over
// real sockets to node:http clients. Server CPU from process.cpuUsage (the clients share the process).
import Fastify from 'fastify';
import { fastifySSE } from '@fastify/sse';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchArgs } from './args.js';
import { sseFrames } from '../src/api/sse-frames.js';
import type { FleetEvent } from '../src/store/fleet-events.js';

const args = benchArgs();
const CLIENTS = Number(args.get('clients') ?? 20);
const BATCH = Number(args.get('batch') ?? 7);
const BATCHES = Number(args.get('batches') ?? 2000);

const anEvent = (id: number): FleetEvent => ({
  id: String(id),
  event: 'connector.status_changed',
  created_at: new Date('2026-12-02T04:00:00Z'),
  tenant_id: 'ten_01M8TE54Z00MVH9F9F0D0J0EKM',
  envelope: JSON.stringify({
    id: String(id),
    event: 'connector.status_changed',
    created_at: '2026-12-02T04:00:00Z',
    tenant_id: 'ten_01M8TE54Z00MVH9F9F0D0J0EKM',
    data: { charge_point_id: 'CP-000123', site_id: 'site_01M8TEPWE4G2HM8D9VBM4ZJ7K7', connector_id: 1, status: 'Charging', previous_status: 'Preparing' },
  }),
});

async function measure(mode: 'send' | 'frames'): Promise<{ total: number; user: number; system: number }> {
  const app = Fastify();
  await app.register(fastifySSE, { heartbeatInterval: 60_000, serializer: (d: unknown) => (typeof d === 'string' ? d : JSON.stringify(d)) });
  const replies: { raw: import('node:http').ServerResponse; sse: { send(m: unknown): Promise<void> } }[] = [];
  let ready!: () => void;
  const allReady = new Promise<void>((r) => (ready = r));
  app.get('/e', { sse: true }, async (_req, reply) => {
    reply.sse.keepAlive();
    reply.sse.sendHeaders();
    reply.raw.flushHeaders();
    replies.push(reply as never);
    if (replies.length === CLIENTS) ready();
    await new Promise(() => {});
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  let received = 0;
  for (let i = 0; i < CLIENTS; i++) httpGet(`http://127.0.0.1:${port}/e`, { headers: { accept: 'text/event-stream' } }, (res) => res.on('data', (d: Buffer) => (received += d.length)));
  await allReady;
  const u0 = process.cpuUsage();
  for (let b = 0; b < BATCHES; b++) {
    const batch = Array.from({ length: BATCH }, (_, i) => anEvent(b * BATCH + i));
    for (const reply of replies) {
      if (mode === 'send') {
        reply.raw.cork();
        for (const e of batch) reply.sse.send({ id: e.id, event: e.event, data: e.envelope }).catch(() => undefined);
        reply.raw.uncork();
      } else {
        reply.raw.write(sseFrames(batch));
      }
    }
    // Let the clients read, so neither mode runs into a full socket.
    if (b % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 500));
  const u = process.cpuUsage(u0);
  app.server.closeAllConnections();
  await app.close();
  if (received === 0) throw new Error('the clients received nothing');
  const per = (us: number) => us / (BATCHES * BATCH * CLIENTS);
  return { total: per(u.user + u.system), user: per(u.user), system: per(u.system) };
}

// --frames-only true: the plugin's way is left out (with large batches it trips its own listener warnings).
const send = args.get('frames-only') === 'true' ? undefined : await measure('send');
const frames = await measure('frames');
const show = (m: { total: number; user: number; system: number }) => `${m.total.toFixed(2)} (user ${m.user.toFixed(2)}, system ${m.system.toFixed(2)})`;
console.log(
  `${CLIENTS} clients, batches of ${BATCH}, ${BATCHES} batches: µs of CPU per event per client — ` +
    (send ? `plugin send per event ${show(send)}, ` : '') +
    `one write per batch ${show(frames)}` +
    (send ? ` (${(send.total / frames.total).toFixed(1)}×)` : ''),
);
process.exit(0);
