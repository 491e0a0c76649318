// npm run bench:cluster — one node against three nodes on one PostgreSQL, in the same run
// (docs/benchmarks.md "Cluster"). Each scenario gets a fresh database with N registered chargers;
// one load-generator process spreads them evenly over the scenario's nodes and measures the
// sustained durable messages/s (closed loop) and the answer latency at half that rate. CPU is
// read from /proc for every node process and for the PostgreSQL backends serving the scenario's
// database, over the closed-loop phase, so each message's CPU cost on a node and in the database
// can be told apart.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SERVE_ENV, cpuSeconds, startLoadGenerator, startProcess, stopProcess } from './server-process.js';
import { BENCH_PG_URL as PG_URL, benchFleetDatabase } from './bench-fleet.js';
import { benchArgs } from './args.js';
import { writeResult } from './results.js';

const args = benchArgs();
const N = Number(args.get('chargers') ?? 3_000);
const MAX_SECONDS = Number(args.get('max-seconds') ?? 15);
const HALF_SECONDS = Number(args.get('half-seconds') ?? 10);
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const ROOT = new URL('../../', import.meta.url).pathname;

export interface ClusterResult {
  scenario: string;
  nodes: number;
  held: number;
  maxRate: number;
  maxP50: number;
  maxP99: number;
  halfRate: number;
  halfP50: number;
  halfP99: number;
  /** CPU used by each node over the closed-loop phase, in % of one core. */
  nodeCpuPercent: number[];
  /** Node CPU (all nodes) per stored message, in ms. */
  nodeCpuMsPerMessage: number;
  /** PostgreSQL backends' CPU (this database only) per stored message, in ms. */
  dbCpuMsPerMessage: number;
  dbCpuPercent: number;
  errors: number;
}

/** CPU seconds of a process so far; 0 for a backend that ended meanwhile. */
const cpuOrZero = (pid: number) => cpuSeconds(pid).catch(() => 0);

async function backendPids(dbName: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]);
    return r.rows.map((x) => x.pid);
  } finally {
    await c.end();
  }
}

async function run(scenario: 'one node' | 'three nodes'): Promise<ClusterResult> {
  const count = scenario === 'one node' ? 1 : 3;
  const dataDir = await mkdtemp(join(tmpdir(), 'dynamo-bench-cluster-'));
  const { databaseUrl, drop } = await benchFleetDatabase('postgres', dataDir, N);
  process.stderr.write(`[${scenario}] preparing ${N} chargers…\n`);

  // One node runs as today (bus in process); three share NATS under a subject prefix of their own.
  const cluster: Record<string, string> = count > 1 ? { DYNAMO_NATS_URL: NATS_URL, DYNAMO_NATS_PREFIX: `bench_${randomBytes(4).toString('hex')}` } : {};
  const servers: { child: ChildProcess; url: string }[] = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const dir = join(dataDir, `node${i}`);
      await mkdir(dir);
      return startProcess([join(ROOT, 'dist/src/cli/main.js'), 'serve'], { ...SERVE_ENV, DATABASE_URL: databaseUrl!, DYNAMO_DATA_DIR: dir, ...cluster });
    }),
  );
  const urls = servers.map((s) => `${s.url.replace('http', 'ws')}/ocpp`).join(',');
  const dbName = new URL(databaseUrl!).pathname.slice(1);
  const gen = startLoadGenerator(['--url', urls, '--chargers', String(N), '--max-seconds', String(MAX_SECONDS), '--half-seconds', String(HALF_SECONDS), '--phases', 'max,half'], scenario);
  const phases: Record<string, any> = {};
  let cpuAtStart: number[] = [];
  let dbPids: number[] = [];
  let dbAtStart = 0;
  let t0 = 0;
  let nodeCpu: number[] = [];
  let dbCpu = 0;
  let elapsed = 1;
  for await (const m of gen.phases) {
    phases[m.phase] = m;
    if (m.phase === 'connected') {
      dbPids = await backendPids(dbName);
      [cpuAtStart, dbAtStart] = await Promise.all([Promise.all(servers.map((s) => cpuOrZero(s.child.pid!))), sum(dbPids.map(cpuOrZero))]);
      t0 = performance.now();
    }
    if (m.phase === 'max') {
      elapsed = (performance.now() - t0) / 1000;
      const [now, dbNow] = await Promise.all([Promise.all(servers.map((s) => cpuOrZero(s.child.pid!))), sum(dbPids.map(cpuOrZero))]);
      nodeCpu = now.map((c, i) => c - cpuAtStart[i]!);
      dbCpu = dbNow - dbAtStart;
    }
  }
  await Promise.all(servers.map((s) => stopProcess(s.child)));
  await drop();
  await rm(dataDir, { recursive: true, force: true });
  const messages = phases.max?.messages ?? 0;
  return {
    scenario,
    nodes: count,
    held: phases.connected?.held,
    maxRate: phases.max?.rate,
    maxP50: phases.max?.p50,
    maxP99: phases.max?.p99,
    halfRate: phases.half?.achieved,
    halfP50: phases.half?.p50,
    halfP99: phases.half?.p99,
    nodeCpuPercent: nodeCpu.map((c) => (100 * c) / elapsed),
    nodeCpuMsPerMessage: messages ? (1000 * nodeCpu.reduce((a, b) => a + b, 0)) / messages : NaN,
    dbCpuMsPerMessage: messages ? (1000 * dbCpu) / messages : NaN,
    dbCpuPercent: (100 * dbCpu) / elapsed,
    errors: (phases.max?.errors ?? 0) + (phases.half?.errors ?? 0),
  };
}

const sum = async (xs: Promise<number>[]) => (await Promise.all(xs)).reduce((a, b) => a + b, 0);
const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export function clusterTable(results: ClusterResult[]): string[] {
  return [
    '| scenario | held | max msg/s | p50 / p99 ms at max | half-rate msg/s | p50 / p99 ms at half | CPU % per node (max phase) | node CPU ms/msg | PostgreSQL CPU % | PostgreSQL CPU ms/msg | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${r.held} | ${f(r.maxRate)} | ${f(r.maxP50, 1)} / ${f(r.maxP99, 1)} | ${f(r.halfRate)} | ${f(r.halfP50, 1)} / ${f(r.halfP99, 1)} | ${r.nodeCpuPercent.map((c) => f(c)).join(' · ')} | ${f(r.nodeCpuMsPerMessage, 3)} | ${f(r.dbCpuPercent)} | ${f(r.dbCpuMsPerMessage, 3)} | ${r.errors} |`,
    ),
  ];
}

async function main() {
  const results = [await run('one node'), await run('three nodes')];
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const lines = [
    `Cluster benchmark, ${new Date().toISOString()}: ${N} chargers (OCPP 1.6) on one node, then on three nodes (NATS bus) sharing one PostgreSQL; ${MAX_SECONDS} s closed loop, then ${HALF_SECONDS} s at half that rate.`,
    `Machine: ${machine.cpu}, ${machine.cores} cores shared by every node, PostgreSQL and the load generator; Node ${machine.node}.`,
    '',
    ...clusterTable(results),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await writeResult('cluster', { machine, chargers: N, maxSeconds: MAX_SECONDS, halfSeconds: HALF_SECONDS, results }, lines.join('\n') + '\n');
}

if (process.argv[1]?.endsWith('cluster.js')) void main();
