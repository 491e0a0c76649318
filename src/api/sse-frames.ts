import type { FleetEvent } from '../store/fleet-events.js';

const frames = new WeakMap<FleetEvent, Buffer>();
/** The last chunk made for a batch starting with this event, and the batch it holds. */
const chunks = new WeakMap<FleetEvent, { batch: readonly FleetEvent[]; chunk: Buffer }>();

/**
 * One event as an SSE message (WHATWG HTML §9.2.6): `id`, `event`, and the envelope's JSON as
 * one `data` line (JSON text holds no raw line break: the database escapes them, and ids and types
 * are from the log and the catalogue). @fastify/sse runs the stream (negotiation, headers, heartbeats, close); the
 * messages are made here, once per event for every client of this node, because its per-message
 * send cost 5.7–6.3 µs of CPU per event per client against 2.5–2.9 µs for one write per batch
 * (`node dist/bench/sse-writes.js`, docs/benchmarks.md "Ingest with listeners"). Encoded once too: a string written to twenty
 * sockets is measured and encoded twenty times.
 */
function frame(e: FleetEvent): Buffer {
  let f = frames.get(e);
  if (f === undefined) frames.set(e, (f = Buffer.from(`id: ${e.id}\nevent: ${e.event}\ndata: ${e.envelope}\n\n`)));
  return f;
}

/**
 * A batch of events as one chunk to write. Clients with the same filter woken by the same read of
 * the feed linger alike and get the same batch: it is joined once for all of them (joining it per
 * client was 3 % of a core with twenty clients under load, in a CPU profile of the listeners bench).
 */
export function sseFrames(batch: readonly FleetEvent[]): Buffer {
  if (batch.length === 1) return frame(batch[0]!);
  const first = batch[0]!;
  const made = chunks.get(first);
  if (made && made.batch.length === batch.length && made.batch.every((e, i) => e === batch[i])) return made.chunk;
  const chunk = Buffer.concat(batch.map(frame));
  chunks.set(first, { batch, chunk });
  return chunk;
}
