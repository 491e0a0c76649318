// Memory per idle connection: N chargers connect, boot and report one status, then stay quiet.
// For the bare `ws` echo server (the floor) and for `dynamo serve` on PostgreSQL, each repeated:
// the process's RSS before and after (what the target is stated in), and the live JS heap
// before and after from two heap snapshots (forced GC, so not at the mercy of when V8 collects),
// with the object types that grew by one or more per connection: where the bytes go.
//
//   node dist/bench/connection-memory.js --chargers 3000 --repeat 2
//   node dist/bench/connection-memory.js --compare <other build>/dist/src/cli/main.js   # adds that build as a target
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import { rssMiB, SERVE_ENV, startProcess, stopProcess } from './server-process.js';
import { benchFleetDatabase } from './bench-fleet.js';
import { SimCharger } from './sim-charger.js';
import { spread, writeResult } from './results.js';

const args = benchArgs();
const N = Number(args.get('chargers') ?? 3000);
const REPEAT = Number(args.get('repeat') ?? 2);
const COMPARE = args.get('compare');
const TARGETS = [...(args.get('targets') ?? 'echo,postgres').split(','), ...(COMPARE ? ['compare'] : [])];
const ROOT = new URL('../..', import.meta.url).pathname;

interface Run {
  target: string;
  rssPerConnectionKiB: number;
  heapPerConnectionBytes: number;
  /** Types that grew by at least 0.9 objects per connection, largest first: bytes and count per connection. */
  perConnection: { type: string; bytes: number; objects: number }[];
}

type Totals = Map<string, { n: number; size: number }>;

/** Self sizes of a heap snapshot, by object type (constructor name for objects and closures). */
function totals(snapshot: string): { byType: Totals; total: number } {
  const s = JSON.parse(snapshot);
  const meta = s.snapshot.meta;
  const fields = meta.node_fields.length as number;
  const types = meta.node_types[0] as string[];
  const field = (f: string) => meta.node_fields.indexOf(f) as number;
  const [ti, ni, si] = [field('type'), field('name'), field('self_size')];
  const byType: Totals = new Map();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += fields) {
    const type = types[s.nodes[i + ti]]!;
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${s.strings[s.nodes[i + ni]] || '(anonymous)'}` : type;
    const size = s.nodes[i + si] as number;
    const t = byType.get(key) ?? { n: 0, size: 0 };
    t.n++;
    t.size += size;
    byType.set(key, t);
    total += size;
  }
  return { byType, total };
}

async function snapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(await readdir(dir));
  process.kill(pid, 'SIGUSR2');
  let lastSize = -1;
  for (const giveUp = Date.now() + 120_000; ; ) {
    if (Date.now() > giveUp) throw new Error(`no heap snapshot from process ${pid} in ${dir} after 120 s`);
    await new Promise((r) => setTimeout(r, 500));
    const file = (await readdir(dir)).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    // Written in pieces: taken once its size holds still for half a second.
    const { size } = await stat(join(dir, file));
    if (size > 0 && size === lastSize) return readFile(join(dir, file), 'utf8');
    lastSize = size;
  }
}

/** `dynamo serve` on a fresh PostgreSQL database with the bench fleet, or the echo server. */
async function start(target: string, dir: string): Promise<{ server: Awaited<ReturnType<typeof startProcess>>; drop: () => Promise<void> }> {
  const nodeArgs = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
  if (target === 'echo') return { server: await startProcess([...nodeArgs, join(ROOT, 'dist/bench/echo-server.js'), '0'], {}), drop: async () => {} };
  const database = await benchFleetDatabase('postgres', dir, N);
  const main = target === 'compare' ? COMPARE! : join(ROOT, 'dist/src/cli/main.js');
  return { server: await startProcess([...nodeArgs, main, 'serve'], { ...database.env, ...SERVE_ENV }), drop: database.drop };
}

/** Runs `fn` against a fresh process of `target`, then stops it and removes what it made. */
async function withProcess<T>(target: string, fn: (pid: number, url: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'dynamo-conn-mem-'));
  const { server, drop } = await start(target, dir);
  try {
    await new Promise((r) => setTimeout(r, 3000));
    return await fn(server.child.pid!, server.url, dir);
  } finally {
    await stopProcess(server.child);
    await drop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One run: RSS before and after the chargers connect (no snapshot before either reading: a
 * snapshot's buffers stay in RSS), then the heap with them; the heap without them comes from a
 * process of its own (`baseline`), started the same way.
 */
async function measure(target: string, baseline: { byType: Totals; total: number }): Promise<Run> {
  return withProcess(target, async (pid, base, dir) => {
    const rssBefore = await rssMiB(pid);
    const url = target === 'echo' ? base.replace('http', 'ws') : `${base.replace('http', 'ws')}/ocpp`;
    const chargers = Array.from({ length: N }, (_, i) => new SimCharger(`BENCH-${i}`, url, 'ocpp1.6'));
    const latencies: number[] = [];
    for (let i = 0; i < N; i += 200) {
      await Promise.all(
        chargers.slice(i, i + 200).map(async (c) => {
          await c.connect();
          await c.boot(latencies);
          await c.status('Available', latencies);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 5000));
    const rssAfter = await rssMiB(pid);
    const heap = totals(await snapshot(pid, dir));
    for (const c of chargers) c.ws?.terminate();
    const perConnection = [...heap.byType]
      .map(([type, a]) => {
        const b = baseline.byType.get(type) ?? { n: 0, size: 0 };
        return { type, bytes: Math.round((a.size - b.size) / N), objects: Math.round(((a.n - b.n) / N) * 100) / 100 };
      })
      .filter((t) => t.objects >= 0.9 && t.bytes > 0)
      .sort((x, y) => y.bytes - x.bytes);
    return {
      target,
      rssPerConnectionKiB: ((rssAfter - rssBefore) * 1024) / N,
      heapPerConnectionBytes: Math.round((heap.total - baseline.total) / N),
      perConnection,
    };
  });
}

const runs: Run[] = [];
const baselines = new Map<string, { byType: Totals; total: number }>();
for (const target of TARGETS) baselines.set(target, await withProcess(target, async (pid, _url, dir) => totals(await snapshot(pid, dir))));
for (let r = 0; r < REPEAT; r++) {
  for (const target of TARGETS) {
    const run = await measure(target, baselines.get(target)!);
    process.stderr.write(`[${target}] RSS ${run.rssPerConnectionKiB.toFixed(1)} KiB, heap ${run.heapPerConnectionBytes} B per connection\n`);
    runs.push(run);
  }
}

const lines = [
  `# Memory per idle connection, ${N} chargers (OCPP 1.6, booted, one status each), ${REPEAT} runs`,
  '',
  `\`node dist/bench/connection-memory.js ${process.argv.slice(2).join(' ')}\``,
  '',
  '| target | RSS per connection, KiB (min–max) | live heap per connection, bytes (min–max) |',
  '|---|---|---|',
  ...TARGETS.map((t) => {
    const rs = runs.filter((r) => r.target === t);
    const label = t === 'echo' ? 'bare ws echo (floor)' : t === 'compare' ? `dynamo serve, PostgreSQL, ${COMPARE}` : 'dynamo serve, PostgreSQL';
    return `| ${label} | ${spread(rs.map((r) => r.rssPerConnectionKiB), 1)} | ${spread(rs.map((r) => r.heapPerConnectionBytes), 0)} |`;
  }),
  '',
  ...TARGETS.flatMap((t) => {
    const last = runs.filter((r) => r.target === t).at(-1)!;
    return [`## Where the heap goes: ${t} (last run; types with one or more new objects per connection)`, '', '| type | bytes per connection | objects per connection |', '|---|---|---|', ...last.perConnection.slice(0, 25).map((p) => `| ${p.type} | ${p.bytes} | ${p.objects} |`), ''];
  }),
];
await writeResult('connection-memory', { chargers: N, repeat: REPEAT, runs }, lines.join('\n'));
process.stdout.write(lines.join('\n') + '\n');
