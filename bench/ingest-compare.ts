// The ingest bench of the performance work (issue 15): --compare <other build>, --repeat N, --cpu-prof DIR and CPU per
// message, kept beside bench/ingest.ts (which gained --webhooks and the message-log targets meanwhile) until the two are joined.
// npm run bench:ingest — the OCPP ingest benchmark (docs/benchmarks.md).
// For each target (bare ws echo, Dynamo on PGlite, Dynamo on PostgreSQL) it
// starts the server as its own process, drives N chargers from a separate
// load-generator process over real sockets, and reports connections held,
// sustained durable messages/s, answer latency and RSS per connection.
import { BENCH_PG_URL as PG_URL } from './bench-fleet.js';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { reachable } from './throwaway-database.js';
import { backendCpu, backendCpuDelta, benchDatabase, cpuSeconds, rssMiB, SERVE_ENV, serverEnvOfRun, startLoadGenerator, startProcess, stopProcess } from './server-process.js';
import { generateApiKey, hashApiKey } from '../src/security/secrets.js';
import { benchArgs } from './args.js';
import { writeResult } from './results.js';

const args = benchArgs();
const N = Number(args.get('chargers') ?? 19_000);
const MAX_SECONDS = Number(args.get('max-seconds') ?? 20);
const HALF_SECONDS = Number(args.get('half-seconds') ?? 20);
const TARGETS = (args.get('targets') ?? 'echo,pglite,postgres').split(',');
// --ocpp 1.6,mixed: several fleets, taken in turn within each repetition (as builds are), so a
// fleet's rate is compared with another's measured minutes apart (issue 15: mixed ≥ 0.85 of 1.6).
const FLEETS = (args.get('ocpp') ?? '1.6').split(',');
const fleetName = (f: string) => (f === 'mixed' ? '1.6, 2.0.1 and 2.1 (a third each)' : f);
const ROOT = new URL('../../', import.meta.url).pathname;
const THIS_SERVER = join(ROOT, 'dist/src/cli/main.js');
// --compare <another build's dist/src/cli/main.js>: each Dynamo target runs on that build too, right
// after this one, so the baseline is measured in the same run (its store modules prepare its database).
const COMPARE = args.get('compare') ? resolve(args.get('compare')!) : undefined;
const REPEAT = Number(args.get('repeat') ?? 1);
// --half-rate R: the open-loop phases at R msg/s for every build (default: half of each run's own maximum),
// so two builds' latencies are compared at one load.
const HALF_RATE = args.get('half-rate');
// --recover-seconds S: idle between the max phase and the open-loop ones (as in bench/ingest.ts).
const RECOVER_SECONDS = args.get('recover-seconds');
// --lockstep true: every simulated charger starts its cycle at the first step (the generator before 2026-12-03).
const LOCKSTEP = args.get('lockstep') === 'true';
// --cpu-prof <dir>: the server runs with node --cpu-prof (one .cpuprofile per thread, PGlite's worker included).
const CPU_PROF = args.get('cpu-prof') ? resolve(args.get('cpu-prof')!) : undefined;

/** The store modules of a build, so the schema is the one that build migrates to. */
async function storeOf(server: string) {
  const mod = <T>(file: string): Promise<T> => import(pathToFileURL(join(dirname(server), '../store', file)).href);
  return {
    ...(await mod<typeof import('../src/store/open.js')>('open.js')),
    ...(await mod<typeof import('../src/store/migrate.js')>('migrate.js')),
    ...(await mod<typeof import('../src/store/tenants.js')>('tenants.js')),
    ...(await mod<typeof import('../src/store/sites.js')>('sites.js')),
    ...(await mod<typeof import('../src/store/chargers.js')>('chargers.js')),
    ...(await mod<typeof import('../src/store/api-keys.js')>('api-keys.js')),
    ...(await import(pathToFileURL(join(dirname(server), '../security/secrets.js')).href) as typeof import('../src/security/secrets.js')),
  };
}

/** The commit of the tree a server was built from, for the report. */
function commitOf(server: string): string | undefined {
  try {
    const git = (...a: string[]) => execFileSync('git', ['-C', dirname(server), ...a], { encoding: 'utf8' }).trim();
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '+changes' : '');
  } catch {
    return undefined;
  }
}

interface Result {
  target: string;
  fleet: string;
  build?: string;
  repetition: number;
  held: number;
  failed: number;
  connectSeconds: number;
  maxRate: number;
  maxP50: number;
  maxP99: number;
  halfTarget: number;
  halfRate: number;
  halfP50: number;
  halfP99: number;
  dashP50: number;
  dashP99: number;
  rssBeforeMiB: number;
  rssConnectedMiB: number;
  rssPerConnectionKiB: number;
  dashboardQueries: number;
  errors: number;
  stormSeconds: number;
  stormFailed: number;
  /** Storm attempts refused or failed and retried after a backoff (chargers retry, as real ones do). */
  stormRetries: number;
  /** CPU per durable message in the closed-loop phase, µs: the server process (PGlite's worker included), the PostgreSQL backends of its database, the load generator. */
  cpuUsPerMessage: { server: number; database: number; generator: number };
}

/** A database with one tenant, one site and N registered chargers, made through the store layer. */
async function prepare(target: 'pglite' | 'postgres', dataDir: string, serverPath: string): Promise<{ env: Record<string, string>; key: string; drop: () => Promise<void>; database?: string }> {
  const { databaseUrl, env, drop } = await benchDatabase(target, dataDir, PG_URL);
  const store = await storeOf(serverPath);
  const { db, release } = await store.openDatabase({ databaseUrl, dataDir, poolSize: 2 });
  await store.migrate(db);
  const tenant = await store.createTenant(db, 'Bench');
  const site = await store.createSite(db, tenant.tenant_id, { name: 'Bench site' });
  const { key, prefix } = store.generateApiKey('tenant');
  await store.insertApiKey(db, { tenantId: tenant.tenant_id, name: 'bench', prefix, keyHash: store.hashApiKey(key), scopes: ['read:charge_points'] });
  await db.transaction(async (tx) => {
    for (let i = 0; i < N; i++) await store.insertCharger(tx, { chargePointId: `BENCH-${i}`, tenantId: tenant.tenant_id, siteId: site.site_id, passwordHash: null });
  });
  await release();
  return { env, key, drop, database: databaseUrl ? new URL(databaseUrl).pathname.slice(1) : undefined };
}

async function run(target: string, serverPath: string, repetition: number, fleet: string): Promise<Result | undefined> {
  if (target === 'postgres' && !(await reachable(PG_URL))) {
    process.stderr.write(`skipping postgres: ${PG_URL} is not reachable (set BENCH_DATABASE_URL)\n`);
    return undefined;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'dynamo-bench-'));
  let prepared: Awaited<ReturnType<typeof prepare>> | undefined;
  let server: { child: ChildProcess; url: string };
  process.stderr.write(`[${target}] preparing ${N} chargers…\n`);
  if (target === 'echo') {
    server = await startProcess([join(ROOT, 'dist/bench/echo-server.js'), '0'], {});
  } else {
    prepared = await prepare(target as 'pglite' | 'postgres', dataDir, serverPath);
    const prof = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', join(CPU_PROF, `${target}-${fleet}-${commitOf(serverPath) ?? 'build'}-${repetition}`)] : [];
    server = await startProcess([...prof, serverPath, 'serve'], { ...prepared.env, ...SERVE_ENV });
  }
  const pid = server.child.pid!;
  const rssBefore = await rssMiB(pid);
  const wsUrl = target === 'echo' ? server.url.replace('http', 'ws') : `${server.url.replace('http', 'ws')}/ocpp`;
  const gen = startLoadGenerator(['--url', wsUrl, '--chargers', String(N), '--max-seconds', String(MAX_SECONDS), '--half-seconds', String(HALF_SECONDS), '--ocpp', fleet, ...(HALF_RATE ? ['--half-rate', HALF_RATE] : []), ...(RECOVER_SECONDS ? ['--recover-seconds', RECOVER_SECONDS] : []), '--lockstep', String(LOCKSTEP)], target);
  const phases: Record<string, any> = {};
  let rssConnected = 0;
  let cpuAtConnected: { server: number; generator: number; db: Map<number, number> } | undefined;
  let cpuUsPerMessage = { server: NaN, database: NaN, generator: NaN };
  let dashboardQueries = 0;
  let stopDashboard = false;
  const dashboard = async () => {
    // A dashboard reading the fleet while chargers talk: ingest must not wait for it.
    while (!stopDashboard && prepared) {
      const r = await fetch(`${server.url}/api/v1/cpo/chargers?limit=1000`, { headers: { authorization: `Bearer ${prepared.key}` } }).catch(() => undefined);
      if (r) {
        await r.arrayBuffer();
        dashboardQueries++;
      }
    }
  };
  let dashboardRun: Promise<void> | undefined;
  for await (const m of gen.phases) {
    phases[m.phase] = m;
    // Before the out-of-step preroll: the RSS of idle connections (the 'connected' line comes after it).
    if (m.phase === 'joined') rssConnected = await rssMiB(pid);
    if (m.phase === 'connected') {
      cpuAtConnected = { server: await cpuSeconds(pid), generator: await cpuSeconds(gen.child.pid!), db: prepared?.database ? await backendCpu(PG_URL, prepared.database) : new Map() };
    }
    if (m.phase === 'max' && cpuAtConnected) {
      const n = m.messages as number;
      const db = prepared?.database ? backendCpuDelta(cpuAtConnected.db, await backendCpu(PG_URL, prepared.database)) : NaN;
      cpuUsPerMessage = {
        server: (1e6 * ((await cpuSeconds(pid)) - cpuAtConnected.server)) / n,
        database: (1e6 * db) / n,
        generator: (1e6 * ((await cpuSeconds(gen.child.pid!)) - cpuAtConnected.generator)) / n,
      };
    }
    if (m.phase === 'half') dashboardRun = dashboard();
    if (m.phase === 'half-dashboard') stopDashboard = true;
  }
  stopDashboard = true;
  await dashboardRun;
  await stopProcess(server.child);
  await prepared?.drop();
  await rm(dataDir, { recursive: true, force: true });
  const c = phases.connected ?? {};
  return {
    target,
    fleet,
    build: target === 'echo' ? undefined : commitOf(serverPath),
    repetition,
    held: c.held,
    failed: c.failed,
    connectSeconds: c.connectSeconds,
    maxRate: phases.max?.rate,
    maxP50: phases.max?.p50,
    maxP99: phases.max?.p99,
    halfTarget: phases.half?.target,
    halfRate: phases.half?.achieved,
    halfP50: phases.half?.p50,
    halfP99: phases.half?.p99,
    dashP50: phases['half-dashboard']?.p50,
    dashP99: phases['half-dashboard']?.p99,
    rssBeforeMiB: rssBefore,
    rssConnectedMiB: rssConnected,
    rssPerConnectionKiB: c.held ? ((rssConnected - rssBefore) * 1024) / c.held : NaN,
    dashboardQueries,
    errors: (phases.max?.errors ?? 0) + (phases.half?.errors ?? 0) + (phases['half-dashboard']?.errors ?? 0),
    stormSeconds: phases.storm?.seconds,
    stormFailed: phases.storm?.failed,
    stormRetries: phases.storm?.retries ?? 0,
    cpuUsPerMessage,
  };
}

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main() {
  const results: Result[] = [];
  // Repetitions and builds alternate (this, other, this, other…) so drifting load hits both alike.
  for (let rep = 1; rep <= REPEAT; rep++) {
    for (const fleet of FLEETS) {
      for (const t of TARGETS) {
        for (const serverPath of t === 'echo' || !COMPARE ? [THIS_SERVER] : [THIS_SERVER, COMPARE]) {
          const r = await run(t, serverPath, rep, fleet);
          if (r) results.push(r);
        }
      }
    }
  }
  const echoOf = (r: Result) => results.find((e) => e.target === 'echo' && e.repetition === r.repetition && e.fleet === r.fleet);
  // The same target and build on the 1.6 fleet in the same repetition: what the mixed fleet is held against.
  const v16Of = (r: Result) => results.find((e) => e.fleet === '1.6' && e.target === r.target && e.build === r.build && e.repetition === r.repetition);
  const multiFleet = FLEETS.length > 1;
  const byFleet = multiFleet && FLEETS.includes('1.6');
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const lines = [
    `Ingest benchmark, ${new Date().toISOString()}: builds ${[THIS_SERVER, ...(COMPARE ? [COMPARE] : [])].map((p) => `${p} (${commitOf(p) ?? '?'})`).join(' vs ')}, ${REPEAT} repetition(s); ${N} chargers speaking OCPP ${FLEETS.map(fleetName).join(', then ')}, ${MAX_SECONDS} s closed loop${LOCKSTEP ? ' (chargers in lockstep)' : ''}, then${RECOVER_SECONDS ? ` after ${RECOVER_SECONDS} s idle` : ""} ${HALF_SECONDS} s at ${HALF_RATE ? `${HALF_RATE} msg/s` : "half that rate"} alone and ${HALF_SECONDS} s more beside a dashboard loop (GET /api/v1/cpo/chargers?limit=1000, back to back).`,
    `Command: ${serverEnvOfRun()}node dist/bench/ingest-compare.js ${process.argv.slice(2).join(' ')}`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; load generator on the same machine.`,
    '',
    `| target | build | rep |${multiFleet ? ' fleet |' : ''}${byFleet ? ' max vs 1.6 |' : ''} held | connect s | max msg/s | vs echo | p50 / p99 ms at max | half-rate msg/s | p50 / p99 ms at half | p50 / p99 ms at half + dashboard | dashboard queries | RSS/conn KiB | errors | storm: all back s (failed; retried attempts) | CPU µs/msg at max: server / database / generator |`,
    `|---|---|---|${multiFleet ? '---|' : ''}${byFleet ? '---|' : ''}---|---|---|---|---|---|---|---|---|---|---|---|---|`,
    ...results.map((r) =>
      `| ${r.target} | ${r.build ?? '—'} | ${r.repetition} |${multiFleet ? ` ${r.fleet} |` : ''}${byFleet ? ` ${v16Of(r) ? f(r.maxRate / v16Of(r)!.maxRate, 2) : 'n/a'} |` : ''} ${r.held} | ${f(r.connectSeconds, 1)} | ${f(r.maxRate)} | ${echoOf(r) ? f(r.maxRate / echoOf(r)!.maxRate, 2) : 'n/a'} | ${f(r.maxP50, 1)} / ${f(r.maxP99, 1)} | ${f(r.halfRate)} | ${f(r.halfP50, 1)} / ${f(r.halfP99, 1)} | ${f(r.dashP50, 1)} / ${f(r.dashP99, 1)} | ${r.dashboardQueries} | ${f(r.rssPerConnectionKiB, 1)} | ${r.errors} | ${f(r.stormSeconds, 1)} (${r.stormFailed}; ${r.stormRetries}) | ${f(r.cpuUsPerMessage.server)} / ${f(r.cpuUsPerMessage.database)} / ${f(r.cpuUsPerMessage.generator)} |`,
    ),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await writeResult('ingest', { machine, command: process.argv.slice(2), serverEnv: serverEnvOfRun().trim(), builds: [THIS_SERVER, ...(COMPARE ? [COMPARE] : [])].map((p) => ({ path: p, commit: commitOf(p) })), repeat: REPEAT, chargers: N, ocpp: FLEETS.join(','), maxSeconds: MAX_SECONDS, halfSeconds: HALF_SECONDS, results });
}

void main();
