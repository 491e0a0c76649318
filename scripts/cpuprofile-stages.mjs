// Where the server's CPU goes per message, by stage of the ingest path, from a V8 .cpuprofile of
// `dynamo serve` (node --cpu-prof) during a bench phase (docs/benchmarks.md "Where a message's time
// goes"). Each sample counts for one stage, the first of STAGES that has a frame on its stack, so
// the stages add up to the busy time. Stacks are synchronous: work resumed from a socket callback
// (pg parsing a result, say) counts where it runs, not for the message that caused it. Usage:
//   node scripts/cpuprofile-stages.mjs <file> <messages> [from-s to-s]
// messages: the durable messages of the window (the bench's max msg/s × its seconds), to give µs per
// message; from-s/to-s: the window in seconds after the profile's start (default: all of it).
import { readFileSync } from 'node:fs';

const [file, messagesArg, fromArg, toArg] = process.argv.slice(2);
if (!file || !messagesArg) throw new Error('usage: cpuprofile-stages.mjs <file> <messages> [from-s to-s]');
const prof = JSON.parse(readFileSync(file, 'utf8'));
const messages = Number(messagesArg);
const from = fromArg === undefined ? -Infinity : Number(fromArg) * 1e6;
const to = toArg === undefined ? Infinity : Number(toArg) * 1e6;

// In priority order: a sample whose stack holds the message log's code is the log's, even in pg.
const STAGES = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['idle', (f) => f.functionName === '(idle)'],
  ['raw message log (capture, rows, insert)', (f) => /message-capture|message-log/.test(f.url)],
  ['events out (feed, stream, webhooks)', (f) => /dist\/src\/(events|api)\//.test(f.url)],
  ['SQL client (pg: encode, send, parse results)', (f) => /node_modules\/pg(-protocol|-pool)?\//.test(f.url) || /dist\/src\/store\//.test(f.url)],
  ['validate (ajv)', (f) => /node_modules\/ajv/.test(f.url)],
  ['adapt (per-version handlers → events)', (f) => /dist\/src\/ocpp\/(v16|v201|v21)\//.test(f.url) || /dist\/src\/ocpp\/(meter-values|storable|time|heartbeat)\.js/.test(f.url)],
  ['queue and group commit (ingest)', (f) => /dist\/src\/ingest\//.test(f.url)],
  ['answer (ocpp-rpc send, ws frame, socket write)', (f) => (/ocpp-rpc\/lib\/client\.js/.test(f.url) && f.functionName === 'sendRaw') || /ws\/lib\/sender/.test(f.url)],
  ['parse and dispatch (ws receive, ocpp-rpc, gateway)', (f) => /node_modules\/(ws|ocpp-rpc)\//.test(f.url) || /dist\/src\/ocpp\//.test(f.url)],
];

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const stageOf = new Map();
const classify = (id) => {
  let s = stageOf.get(id);
  if (s !== undefined) return s;
  s = 'other (timers, HTTP, prom-client, Node internals)';
  for (const [name, match] of STAGES) {
    let hit = false;
    for (let cur = id; cur !== undefined && !hit; cur = parent.get(cur)) hit = match(byId.get(cur).callFrame);
    if (hit) {
      s = name;
      break;
    }
  }
  stageOf.set(id, s);
  return s;
};

const time = new Map();
let t = prof.startTime;
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i] ?? 0;
  const at = t - prof.startTime;
  if (at < from || at >= to) continue;
  const s = classify(prof.samples[i]);
  time.set(s, (time.get(s) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const busy = [...time].filter(([s]) => s !== 'idle').reduce((a, [, v]) => a + v, 0);
console.log(`${file}: ${(busy / 1e6).toFixed(2)} s busy in the window, ${messages} messages: ${(busy / messages).toFixed(1)} µs per message`);
console.log('| stage | µs per message | share of busy time |\n|---|---|---|');
for (const [s, v] of [...time].sort((a, b) => b[1] - a[1])) {
  if (s === 'idle') continue;
  console.log(`| ${s} | ${(v / messages).toFixed(1)} | ${((100 * v) / busy).toFixed(1)} % |`);
}
