// npm run bench:large-fleet — a fleet of 50,000 chargers on one machine at a realistic rate, then all of
// them reconnecting at once (issue #15; docs/benchmarks.md "50,000 chargers on one machine").
//
// One process can hold only as many sockets as its open-file limit allows, and this bench cannot
// raise a hard limit (the machines it was written on cap every process at 20,000, without the
// capability to lift it). So the fleet is held by --nodes `dynamo serve` processes on one
// PostgreSQL (a cluster on one machine, NATS between them) and driven by --generators load
// generators, each under the limit; with a high enough limit, `--nodes 1` is the one-node case.
// Every process shares the machine's cores. Phases, started together in every generator:
//   connect  every charger connects, boots and reports its status (--connect-rate per generator), then
//            goes through part of its cycle so that the fleet is not in step; --settle-seconds idle
//   steady   --seconds at --rate messages/s over the whole fleet (default one per charger per minute:
//            a 300 s heartbeat, meter values every minute while charging; docs/benchmarks.md
//            "100,000 chargers, extrapolated"): answer latency, node and PostgreSQL CPU
//   storm    every socket drops at once, every charger reconnects and boots at once
// With pg_stat_statements loaded in PostgreSQL, the steady phase's top statements are reported too
// (bench/statements.ts).
//
//   node dist/bench/large-fleet.js [--chargers 50000] [--nodes 3] [--generators 3] [--seconds 60]
//     [--rate <msg/s>] [--connect-rate 1000] [--settle-seconds 60] [--analyze auto|true|false] [--warmup-seconds 0]
// --analyze: ANALYZE the bench database at the end of the idle time, as autovacuum would have done
// in it; `auto` (default) does so only when the server runs without autovacuum (this machine's CI
// configuration), so that the steady phase is planned on statistics of the fleet, not of empty tables.
// --warmup-seconds: the steady rate runs this long before its measured --seconds (answers not
// counted): a real fleet of this size is never silent for a minute, so the step from the idle
// minute to the full rate is not what its operators see; 0 (default) measures from the step.
// PostgreSQL: BENCH_DATABASE_URL (a fresh database per run); NATS: BENCH_NATS_URL (nats://127.0.0.1:4222)
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { SERVE_ENV, serverEnvOfRun, backendCpu, backendCpuDelta, cpuSeconds, postgresCpuSeconds, rssMiB, startLoadGenerator, startProcess, stopProcess, type GeneratorPhase } from './server-process.js';
import { BENCH_PG_URL, benchFleetDatabase } from './bench-fleet.js';
import { benchArgs } from './args.js';
import { writeResult } from './results.js';
import { statementsReset, topStatements, type StatementCost } from './statements.js';
import { pgSettings, samplePgSeconds } from './pg-seconds.js';
import { fetchMetrics, sumOf } from './listeners.js';
import { withClient } from './throwaway-database.js';
import { describeMachineSpeed, machineSpeed, startSpeedProbe } from './machine-speed.js';

const args = benchArgs();
const N = Number(args.get('chargers') ?? 50_000);
const NODES = Number(args.get('nodes') ?? 3);
const GENERATORS = Number(args.get('generators') ?? 3);
const SECONDS = Number(args.get('seconds') ?? 60);
const RATE = Number(args.get('rate') ?? N / 60);
const CONNECT_RATE = Number(args.get('connect-rate') ?? 1000);
/** Idle time between connecting and the steady phase: the message log and autovacuum catch up on the connect phase's messages first. */
const SETTLE_SECONDS = Number(args.get('settle-seconds') ?? 60);
const ANALYZE = args.get('analyze') ?? 'auto';
/** Seconds at the steady rate before the measured ones (0: the measurement starts with the step from the idle minute). */
const WARMUP_SECONDS = Number(args.get('warmup-seconds') ?? 0);
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const ROOT = new URL('../../', import.meta.url).pathname;
/** Files a process holds besides its chargers' sockets (its database pool, logs, modules). */
const SPARE_FILES = 500;

/** This process's open-file limit (soft), which the processes it starts inherit. */
async function openFileLimit(): Promise<number> {
  const limits = await readFile('/proc/self/limits', 'utf8');
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return m?.[1] === 'unlimited' || !m ? Infinity : Number(m[1]);
}

/** A generator's report lines by phase ('waiting:<next>' for its waits), awaited as they come. */
function follow(gen: ReturnType<typeof startLoadGenerator>) {
  const seen = new Map<string, GeneratorPhase>();
  const waiting = new Map<string, { resolve: (m: GeneratorPhase) => void; reject: (e: Error) => void }[]>();
  let failed: Error | undefined;
  void (async () => {
    for await (const m of gen.phases) {
      const key = m.phase === 'waiting' ? `waiting:${m.next}` : m.phase;
      seen.set(key, m);
      for (const w of waiting.get(key) ?? []) w.resolve(m);
    }
  })();
  gen.child.on('exit', (code) => {
    if (code === 0) return;
    failed = new Error(`a load generator exited with ${code}`);
    for (const ws of waiting.values()) for (const w of ws) w.reject(failed);
  });
  return (key: string): Promise<GeneratorPhase> => {
    const m = seen.get(key);
    if (m) return Promise.resolve(m);
    if (failed) return Promise.reject(failed);
    return new Promise((resolve, reject) => waiting.set(key, [...(waiting.get(key) ?? []), { resolve, reject }]));
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Background work a node does, from its /metrics: rollup maintenance steps and VACUUM runs, count and seconds. */
const BACKGROUND = {
  rollupSteps: 'dynamo_rollup_step_seconds_count',
  rollupSeconds: 'dynamo_rollup_step_seconds_sum',
  vacuums: 'dynamo_vacuum_seconds_count',
  vacuumSeconds: 'dynamo_vacuum_seconds_sum',
} as const;
type BackgroundWork = Record<keyof typeof BACKGROUND, number>;

async function backgroundWork(url: string): Promise<BackgroundWork> {
  const text = await fetchMetrics(url);
  return Object.fromEntries(Object.entries(BACKGROUND).map(([k, series]) => [k, sumOf(text, series)])) as BackgroundWork;
}
const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main() {
  const limit = await openFileLimit();
  const perNode = Math.ceil(N / NODES) + SPARE_FILES;
  const perGenerator = Math.ceil(N / GENERATORS) + SPARE_FILES;
  if (Math.max(perNode, perGenerator) > limit) {
    throw new Error(
      `${N} chargers need about ${perNode} open files per node and ${perGenerator} per generator; this process may open ${limit} (ulimit -n): raise it, or use more --nodes and --generators`,
    );
  }
  const speed = await machineSpeed(BENCH_PG_URL);
  const dataDir = await mkdtemp(join(tmpdir(), 'dynamo-bench-large-'));
  process.stderr.write(`registering ${N} chargers…\n`);
  const { databaseUrl, drop } = await benchFleetDatabase('postgres', dataDir, N);
  const dbName = new URL(databaseUrl!).pathname.slice(1);
  const cluster: Record<string, string> = NODES > 1 ? { DYNAMO_NATS_URL: NATS_URL, DYNAMO_NATS_PREFIX: `bench_${randomBytes(4).toString('hex')}` } : {};
  const servers = await Promise.all(
    Array.from({ length: NODES }, async (_, i) => {
      const dir = join(dataDir, `node${i}`);
      await mkdir(dir);
      return startProcess([join(ROOT, 'dist/src/cli/main.js'), 'serve'], { ...SERVE_ENV, DATABASE_URL: databaseUrl!, DYNAMO_DATA_DIR: dir, ...cluster });
    }),
  );
  const pids = servers.map((s) => s.child.pid!);
  const rssIdle = await Promise.all(pids.map(rssMiB));
  const urls = servers.map((s) => `${s.url.replace('http', 'ws')}/ocpp`).join(',');
  const share = Math.ceil(N / GENERATORS);
  const gens = Array.from({ length: GENERATORS }, (_, g) => {
    const first = g * share;
    const count = Math.min(share, N - first);
    const gen = startLoadGenerator(
      ['--url', urls, '--first', String(first), '--chargers', String(count), '--connect-rate', String(CONNECT_RATE), '--phases', 'half,storm',
        '--half-rate', String((RATE * count) / N), '--half-seconds', String(SECONDS), '--warmup-seconds', String(WARMUP_SECONDS), '--sync', 'true'],
      `generator ${g}`,
    );
    return { gen, at: follow(gen) };
  });
  const all = (key: string) => Promise.all(gens.map((g) => g.at(key)));
  /** Every generator starts its next phase (they print 'waiting' before each and wait for this). */
  const goAll = () => gens.forEach((g) => g.gen.go());

  const tConnect = performance.now();
  const connected = await all('connected');
  await all('waiting:half');
  const connectSeconds = (performance.now() - tConnect) / 1000;
  const rssHeld = await Promise.all(pids.map(rssMiB));
  const held = sum(connected.map((m) => m.held));
  await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
  const settings = await pgSettings(databaseUrl!);
  const analyzed = ANALYZE === 'true' || (ANALYZE === 'auto' && settings.autovacuum === 'off');
  let analyzeSeconds = 0;
  if (analyzed) {
    const ta = performance.now();
    await withClient(databaseUrl!, (c) => c.query('ANALYZE'));
    analyzeSeconds = (performance.now() - ta) / 1000;
  }
  // With a warm-up the fleet is already talking when the measurement starts: the counters below
  // start about when the generators' measured seconds do, WARMUP_SECONDS after they began sending.
  if (WARMUP_SECONDS > 0) {
    goAll();
    await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
  }
  const statements = await statementsReset(BENCH_PG_URL);
  const [nodeCpu0, db0, pgAll0] = await Promise.all([Promise.all(pids.map(cpuSeconds)), backendCpu(BENCH_PG_URL, dbName), postgresCpuSeconds()]);
  const work0 = await Promise.all(servers.map((s) => backgroundWork(s.url)));
  const pgSeconds = await samplePgSeconds(databaseUrl!, dbName);
  const probe = startSpeedProbe();
  const t0 = performance.now();
  if (WARMUP_SECONDS === 0) goAll();
  const steady = await all('half');
  const elapsed = (performance.now() - t0) / 1000;
  const [nodeCpu1, db1, pgAll1] = await Promise.all([Promise.all(pids.map(cpuSeconds)), backendCpu(BENCH_PG_URL, dbName), postgresCpuSeconds()]);
  const bySecond = await pgSeconds.stop();
  const probeUs = probe.stop();
  const work1 = await Promise.all(servers.map((s) => backgroundWork(s.url)));
  const background = work1.map((w, i) => Object.fromEntries(Object.keys(BACKGROUND).map((k) => [k, w[k as keyof BackgroundWork] - work0[i]![k as keyof BackgroundWork]])) as BackgroundWork);
  const steadyStatements: StatementCost[] = statements ? await topStatements(BENCH_PG_URL, dbName, 16) : [];
  await all('waiting:storm');
  goAll();
  const storm = await all('storm');
  const rssAfter = await Promise.all(pids.map(rssMiB));
  await Promise.all(gens.map((g) => new Promise((r) => (g.gen.child.exitCode !== null ? r(null) : g.gen.child.once('exit', r)))));
  await Promise.all(servers.map((s) => stopProcess(s.child)));
  await drop();
  await rm(dataDir, { recursive: true, force: true });

  const result = {
    chargers: N,
    nodes: NODES,
    generators: GENERATORS,
    openFileLimit: limit,
    connect: { held, failed: sum(connected.map((m) => m.failed ?? 0)), seconds: connectSeconds },
    /** ANALYZE of the bench database before the steady phase (--analyze), and its seconds. */
    analyze: { done: analyzed, seconds: analyzeSeconds },
    steady: {
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      target: RATE,
      achieved: sum(steady.map((m) => m.achieved)),
      p50: steady.map((m) => m.p50),
      p99: steady.map((m) => m.p99),
      generatorLoopP99: steady.map((m) => m.loopP99),
      skipped: sum(steady.map((m) => m.skipped)),
      errors: sum(steady.map((m) => m.errors)),
      nodeCpuPercent: nodeCpu1.map((c, i) => (100 * (c - nodeCpu0[i]!)) / elapsed),
      postgresCpuPercent: (100 * backendCpuDelta(db0, db1)) / elapsed,
      /** Every PostgreSQL process on the machine (autovacuum, WAL writer, checkpointer, exited backends too). */
      postgresAllCpuPercent: (100 * (pgAll1 - pgAll0)) / elapsed,
      /** Per second of the phase, the worst p99 of the generators: when the tail happened. */
      p99BySecond: steady[0]!.p99BySecond.map((_: number, i: number) => Math.max(...steady.map((m) => m.p99BySecond[i] ?? 0))),
      statements: steadyStatements,
      /** Per node: the rollup steps and VACUUMs it ran during the phase. */
      background,
      postgresBySecond: bySecond,
      /** Per second, µs for the speed probe's fixed work (bench/machine-speed.ts): how fast a core ran. */
      probeUsBySecond: probeUs,
    },
    storm: {
      reconnected: sum(storm.map((m) => m.reconnected)),
      failed: sum(storm.map((m) => m.failed)),
      retries: sum(storm.map((m) => m.retries)),
      seconds: Math.max(...storm.map((m) => m.seconds)),
      backP90: Math.max(...storm.map((m) => m.backP90)),
      listenOverflows: Math.max(...storm.map((m) => m.listenOverflows)),
    },
    rssMiB: { idle: rssIdle, held: rssHeld, afterStorm: rssAfter },
    postgresSettings: settings,
    machineSpeed: speed,
    kibPerConnection: (1024 * (sum(rssHeld) - sum(rssIdle))) / Math.max(1, held),
  };
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const s = result.steady;
  const serverEnv = serverEnvOfRun();
  const lines = [
    `Large fleet, ${new Date().toISOString()}: ${N} chargers (OCPP 1.6) on ${NODES} node process(es) sharing one PostgreSQL${NODES > 1 ? ' (NATS bus)' : ''}, driven by ${GENERATORS} load generators; open-file limit ${limit} per process.`,
    `Command: ${serverEnv}node dist/bench/large-fleet.js ${process.argv.slice(2).join(' ')}`,
    `Machine: ${machine.cpu}, ${machine.cores} cores shared by every node, PostgreSQL and the generators; ${machine.memoryGiB} GiB; Node ${machine.node}; ${describeMachineSpeed(speed)}.`,
    `PostgreSQL: ${Object.entries(settings).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    '| phase | figure |',
    '|---|---|',
    `| connect | ${result.connect.held} of ${N} held, ${result.connect.failed} failed, ${f(connectSeconds)} s (at most ${CONNECT_RATE}/s per generator, with each charger's first steps), then ${SETTLE_SECONDS} s idle${analyzed ? `, then ANALYZE (${f(analyzeSeconds, 1)} s)` : ', no ANALYZE'} |`,
    `| memory | RSS per node ${rssIdle.map((r) => f(r)).join(' · ')} MiB before, ${rssHeld.map((r) => f(r)).join(' · ')} MiB holding the fleet: ${f(result.kibPerConnection, 1)} KiB per connection |`,
    `| steady, ${SECONDS} s${WARMUP_SECONDS ? ` after ${WARMUP_SECONDS} s of warm-up at the rate` : ''} | ${f(s.achieved)} msg/s answered (target ${f(RATE)}), p50 ${s.p50.map((x) => f(x, 1)).join(' · ')} ms, p99 ${s.p99.map((x) => f(x, 1)).join(' · ')} ms (per generator), ${s.errors} errors, ${s.skipped} skipped (charger busy) |`,
    `| steady: CPU | nodes ${s.nodeCpuPercent.map((c) => f(c)).join(' · ')} % of a core, PostgreSQL backends ${f(s.postgresCpuPercent)} % (all its processes ${f(s.postgresAllCpuPercent)} %); generators' own loop delay p99 ${s.generatorLoopP99.map((x) => f(x, 1)).join(' · ')} ms |`,
    `| steady: p99 by second | ${s.p99BySecond.join(' ')} ms (worst generator each second) |`,
    `| steady: background work | per node: rollup steps ${s.background.map((b) => `${b.rollupSteps} (${f(b.rollupSeconds, 2)} s)`).join(' · ')}; VACUUM runs ${s.background.map((b) => `${b.vacuums} (${f(b.vacuumSeconds, 2)} s)`).join(' · ')} |`,
    `| storm | ${result.storm.reconnected} of ${N} back and booted, ${result.storm.failed} failed, ${result.storm.retries} retries, all back in ${f(result.storm.seconds, 1)} s (90 % in ${f(result.storm.backP90, 1)} s), listen overflows ${result.storm.listenOverflows} |`,
    `| after the storm | RSS per node ${rssAfter.map((r) => f(r)).join(' · ')} MiB |`,
  ];
  lines.push('', 'PostgreSQL second by second in the steady phase (pg_stat_wal, pg_stat_bgwriter; this database\'s active backends and the OS page cache sampled every 100 ms), beside the speed probe (bench/machine-speed.ts: µs for a fixed piece of work, the fastest of ten that second; lower is faster):', '');
  lines.push('| second | p99 ms | speed probe µs | WAL KiB | full-page images | checkpoints begun | buffers written by backends | active backends | new backends | top waits | OS dirty / writeback MiB |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of s.postgresBySecond.slice(0, SECONDS)) {
    lines.push(`| ${r.second} | ${s.p99BySecond[r.second] ?? ''} | ${s.probeUsBySecond[r.second] ?? ''} | ${r.walKiB} | ${r.fpi} | ${r.checkpoints} | ${r.backendWrites} | ${r.active} | ${r.newBackends} | ${r.waits} | ${r.osDirtyMiB ?? 'n/a'} / ${r.osWritebackMiB ?? 'n/a'} |`);
  }
  if (steadyStatements.length > 0) {
    lines.push('', `Statements in the steady phase (pg_stat_statements, this database, by total time; wall-clock inside PostgreSQL, waits included):`, '');
    lines.push('| calls | total s | mean ms | rows | buffers hit+read | statement |', '|---|---|---|---|---|---|');
    for (const st of steadyStatements) lines.push(`| ${st.calls} | ${f(st.totalMs / 1000, 1)} | ${f(st.meanMs, 2)} | ${st.rows} | ${st.buffers} | \`${st.query.replace(/\|/g, '\\|')}\` |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  await writeResult('large-fleet', { machine, command: process.argv.slice(2), serverEnv: serverEnv.trim(), result }, lines.join('\n') + '\n');
}

void main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
