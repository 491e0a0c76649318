// node dist/bench/steady-profile.js — where one server's CPU or memory goes at a steady, realistic
// rate (docs/benchmarks.md "The event feed and its wake-ups without listeners"). A real `dynamo serve` on a fresh
// PostgreSQL database holds N chargers (bench/load-generator.ts); while they send R msg/s for S
// seconds the server is profiled through its inspector, only in that phase (a --cpu-prof profile
// covers connecting and the closed loop too):
//   --profile cpu    V8's sampling CPU profiler: self time per function, in µs per message
//   --profile alloc  the sampling heap profiler with every collected object kept: bytes allocated
//                    per message by function; --alloc-survivors true keeps only what outlived a
//                    young-generation collection (what is promoted and later costs a full one)
// The profile is written beside the report (not committed: .gitignore; load it in Chrome DevTools).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { benchArgs } from './args.js';
import { benchFleetDatabase } from './bench-fleet.js';
import { writeResult } from './results.js';
import { SERVE_ENV, startLoadGenerator, startProcess, stopProcess } from './server-process.js';

const args = benchArgs();
const ROOT = new URL('../../', import.meta.url).pathname;
const N = Number(args.get('chargers') ?? 16_700);
const RATE = Number(args.get('rate') ?? 280);
const SECONDS = Number(args.get('seconds') ?? 30);
const PROFILE = (args.get('profile') ?? 'cpu') as 'cpu' | 'alloc';
const SURVIVORS = args.get('alloc-survivors') === 'true';
const OCPP = args.get('ocpp') ?? '1.6';
const INSPECT_PORT = Number(args.get('inspect-port') ?? 9339);
const TOP = Number(args.get('top') ?? 40);

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  startTime: number;
  endTime: number;
}
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

const nameOf = (f: CallFrame) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, '')}:${f.lineNumber + 1}`;

/** The server's inspector, one request at a time. */
async function inspector(port: number): Promise<{ call: (method: string, params?: object) => Promise<any>; close: () => void }> {
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const pending = new Map<number, (m: any) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id === undefined) return;
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<any>((resolve, reject) => {
      const n = ++id;
      pending.set(n, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return { call, close: () => ws.close() };
}

/** The TOP largest, divided by the messages of the phase. */
function perMessage(byFunction: Map<string, number>, messages: number): [string, number][] {
  return [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, v]) => [k, v / messages]);
}

function cpuTop(p: CpuProfile, messages: number): { busySeconds: number; usPerMessage: number; top: [string, number][] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const perSample = (p.endTime - p.startTime) / p.samples.length;
  const self = new Map<string, number>();
  let busy = 0;
  for (const id of p.samples) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    busy += perSample;
    self.set(nameOf(frame), (self.get(nameOf(frame)) ?? 0) + perSample);
  }
  return { busySeconds: busy / 1e6, usPerMessage: busy / messages, top: perMessage(self, messages) };
}

function allocTop(head: HeapNode, messages: number): { bytesPerMessage: number; top: [string, number][] } {
  const self = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    total += n.selfSize;
    if (n.selfSize > 0) self.set(nameOf(n.callFrame), (self.get(nameOf(n.callFrame)) ?? 0) + n.selfSize);
    n.children.forEach(walk);
  };
  walk(head);
  return { bytesPerMessage: total / messages, top: perMessage(self, messages) };
}

/** The whole profile beside the reports (not committed), for Chrome DevTools. */
async function keep(profile: unknown, ext: 'cpuprofile' | 'heapprofile'): Promise<string> {
  const file = join(ROOT, 'bench/results', `steady-profile-${new Date().toISOString().replace(/[:.]/g, '-')}.${ext}`);
  await writeFile(file, JSON.stringify(profile));
  return file;
}

/** The top functions as a Markdown table, per message. */
function table(unit: string, top: [string, number][], digits: number): string[] {
  return ['', `| ${unit} | function |`, '|---|---|', ...top.map(([k, v]) => `| ${v.toFixed(digits)} | \`${k}\` |`)];
}

async function main() {
  const db = await benchFleetDatabase('postgres', '', N);
  process.env.BENCH_NODE_ARGS = `${process.env.BENCH_NODE_ARGS ?? ''} --inspect=127.0.0.1:${INSPECT_PORT}`;
  const server = await startProcess([join(ROOT, 'dist/src/cli/main.js'), 'serve'], { ...SERVE_ENV, ...db.env });
  const insp = await inspector(INSPECT_PORT);
  const wsUrl = `${server.url.replace('http', 'ws')}/ocpp`;
  const gen = startLoadGenerator(
    ['--url', wsUrl, '--chargers', String(N), '--phases', 'half', '--half-rate', String(RATE), '--half-seconds', String(SECONDS), '--ocpp', OCPP, '--sync', 'true'],
    'generator',
  );
  let report = '';
  let result: unknown;
  try {
    for await (const phase of gen.phases) {
      if (phase.phase === 'waiting') {
        if (PROFILE === 'cpu') {
          await insp.call('Profiler.enable');
          await insp.call('Profiler.setSamplingInterval', { interval: 250 });
          await insp.call('Profiler.start');
        } else {
          await insp.call('HeapProfiler.enable');
          await insp.call('HeapProfiler.startSampling', {
            samplingInterval: 4096,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: !SURVIVORS,
          });
        }
        gen.go();
      }
      if (phase.phase !== 'half') continue;
      const messages = Math.round(phase.achieved * SECONDS);
      const header = [
        `Steady profile, ${new Date().toISOString()}: one node, ${N} chargers (OCPP ${OCPP}) at ${RATE} msg/s for ${SECONDS} s on PostgreSQL; ${messages} messages answered, p50 / p99 ${phase.p50.toFixed(1)} / ${phase.p99.toFixed(1)} ms.`,
        `Command: node dist/bench/steady-profile.js ${process.argv.slice(2).join(' ')}`,
        '',
      ];
      if (PROFILE === 'cpu') {
        const { profile } = (await insp.call('Profiler.stop')) as { profile: CpuProfile };
        const file = await keep(profile, 'cpuprofile');
        const r = cpuTop(profile, messages);
        result = { ...r, profileFile: file };
        report = [
          ...header,
          `Server CPU in the phase: ${r.busySeconds.toFixed(2)} s, ${r.usPerMessage.toFixed(0)} µs a message (self time, sampled every 250 µs; profile ${file}).`,
          ...table('µs / message', r.top, 1),
        ].join('\n');
      } else {
        const { profile } = (await insp.call('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
        const file = await keep(profile, 'heapprofile');
        const r = allocTop(profile.head, messages);
        result = { ...r, survivorsOnly: SURVIVORS, profileFile: file };
        report = [
          ...header,
          `${SURVIVORS ? 'Outlived a young-generation collection' : 'Allocated'}: ${(r.bytesPerMessage / 1024).toFixed(1)} KiB a message (sampled every 4 KiB; profile ${file}).`,
          ...table('bytes / message', r.top, 0),
        ].join('\n');
      }
      break;
    }
  } finally {
    insp.close();
    gen.child.kill();
    await stopProcess(server.child);
    await db.drop();
  }
  process.stdout.write(report + '\n');
  await writeResult('steady-profile', { chargers: N, rate: RATE, seconds: SECONDS, profile: PROFILE, result }, report + '\n');
  process.exit(0);
}

void main();
