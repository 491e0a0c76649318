// npm run bench:flood — fairness under a flood (docs/benchmarks.md). For each target (Dynamo on
// PGlite, Dynamo on PostgreSQL) it starts the server as its own process on a fresh database with two
// tenants: K victim chargers in one, a flooder charger in the other. Phase 1 (baseline): the victims
// alone in a closed loop for S seconds. Phase 2: the same victims while the flooder pipelines F
// StatusNotification CALLs without waiting. Victims and flooder are two more processes
// (bench/flood-generator.ts). --server points at another build's dist/src/cli/main.js to measure it
// in the same way; the database is then prepared with that build's own store modules.
import { BENCH_PG_URL as PG_URL } from './bench-fleet.js';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { benchArgs } from './args.js';
import { reachable } from './throwaway-database.js';
import { benchDatabase, SERVE_ENV, startProcess, stopProcess } from './server-process.js';
import { writeResult } from './results.js';

const args = benchArgs();
const ROOT = new URL('../../', import.meta.url).pathname;
const VICTIMS = Number(args.get('victims') ?? 50);
const SECONDS = Number(args.get('seconds') ?? 10);
const FLOOD = Number(args.get('flood') ?? 20_000);
const FLOOD_TIMEOUT = Number(args.get('flood-timeout') ?? 120);
const TARGETS = (args.get('targets') ?? 'pglite,postgres').split(',');
const SERVER = resolve(args.get('server') ?? join(ROOT, 'dist/src/cli/main.js'));

/** The store modules of the build under test, so the schema is the one that build migrates to. */
async function storeOf(server: string) {
  const mod = <T>(file: string): Promise<T> => import(pathToFileURL(join(dirname(server), '../store', file)).href);
  return {
    ...(await mod<typeof import('../src/store/open.js')>('open.js')),
    ...(await mod<typeof import('../src/store/migrate.js')>('migrate.js')),
    ...(await mod<typeof import('../src/store/tenants.js')>('tenants.js')),
    ...(await mod<typeof import('../src/store/sites.js')>('sites.js')),
    ...(await mod<typeof import('../src/store/chargers.js')>('chargers.js')),
  };
}

/** The commit of the tree the server was built from, for the report. */
function commitOf(server: string): string | undefined {
  try {
    return execFileSync('git', ['-C', dirname(server), 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Two tenants on a fresh database: VICTIM-0…K-1 in one, FLOOD-0 in the other. */
async function prepare(target: 'pglite' | 'postgres', dataDir: string) {
  const database = await benchDatabase(target, dataDir, PG_URL);
  const store = await storeOf(SERVER);
  const { db, release } = await store.openDatabase({ databaseUrl: database.databaseUrl, dataDir, poolSize: 2 });
  await store.migrate(db);
  const victims = await store.createTenant(db, 'Victim CPO');
  const flooder = await store.createTenant(db, 'Flooder CPO');
  const victimSite = await store.createSite(db, victims.tenant_id, { name: 'Victim site' });
  const flooderSite = await store.createSite(db, flooder.tenant_id, { name: 'Flooder site' });
  await db.transaction(async (tx) => {
    for (let i = 0; i < VICTIMS; i++) await store.insertCharger(tx, { chargePointId: `VICTIM-${i}`, tenantId: victims.tenant_id, siteId: victimSite.site_id, passwordHash: null });
    await store.insertCharger(tx, { chargePointId: 'FLOOD-0', tenantId: flooder.tenant_id, siteId: flooderSite.site_id, passwordHash: null });
  });
  await release();
  return database;
}

/** A generator process, its JSON lines one at a time, and a way to send it a command. */
function generator(argv: string[]) {
  const child = spawn(process.execPath, [join(ROOT, 'dist/bench/flood-generator.js'), ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    send: (command: string) => child.stdin!.write(command + '\n'),
    async expect(phase: string): Promise<any> {
      const next = await lines.next();
      if (next.done) throw new Error(`${argv.join(' ')}: ended before "${phase}"`);
      const m = JSON.parse(next.value);
      if (m.phase !== phase) throw new Error(`${argv.join(' ')}: expected "${phase}", got ${next.value}`);
      return m;
    },
  };
}

interface Result {
  target: string;
  connected: { held: number; failed: number };
  baseline: any;
  flood: any;
  flooder: any;
}

async function run(target: 'pglite' | 'postgres'): Promise<Result | undefined> {
  if (target === 'postgres' && !(await reachable(PG_URL))) {
    process.stderr.write(`skipping postgres: ${PG_URL} is not reachable (set BENCH_DATABASE_URL)\n`);
    return undefined;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'dynamo-flood-'));
  process.stderr.write(`[${target}] preparing ${VICTIMS} victims and a flooder with ${SERVER}…\n`);
  const database = await prepare(target, dataDir);
  const server = await startProcess([SERVER, 'serve'], { ...database.env, ...SERVE_ENV });
  const wsUrl = `${server.url.replace('http', 'ws')}/ocpp`;
  const children: ChildProcess[] = [];
  try {
    const victims = generator(['--role', 'victims', '--url', wsUrl, '--victims', String(VICTIMS), '--seconds', String(SECONDS)]);
    const flooder = generator(['--role', 'flooder', '--url', wsUrl, '--flood', String(FLOOD), '--timeout', String(FLOOD_TIMEOUT)]);
    children.push(victims.child, flooder.child);
    const connected = await victims.expect('connected');
    await flooder.expect('connected');
    process.stderr.write(`[${target}] connected ${JSON.stringify(connected)}\n`);

    victims.send('baseline');
    const baseline = await victims.expect('baseline');
    process.stderr.write(`[${target}] baseline ${JSON.stringify(baseline)}\n`);

    victims.send('flood');
    flooder.send('go');
    const flood = await flooder.expect('flood');
    process.stderr.write(`[${target}] flooder ${JSON.stringify(flood)}\n`);
    // The window: the victims' CALLs sent before the last flood CALL was answered (or the timeout).
    victims.send(`stop ${flood.endedSeconds}`);
    const duringFlood = await victims.expect('flood');
    process.stderr.write(`[${target}] victims during the flood ${JSON.stringify(duringFlood)}\n`);
    return { target, connected, baseline, flood: duringFlood, flooder: flood };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await stopProcess(server.child);
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const f = (n: number | null | undefined, d = 0) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main() {
  const results: Result[] = [];
  for (const t of TARGETS) {
    const r = await run(t as 'pglite' | 'postgres');
    if (r) results.push(r);
  }
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const commit = commitOf(SERVER);
  const server = `${SERVER}${commit ? ` (${commit})` : ''}`;
  const outcomes = (r: Result) => r.flooder.outcomes as Record<string, number>;
  const others = (r: Result) => Object.entries(outcomes(r)).filter(([k]) => k !== 'CALLRESULT' && k !== 'GenericError').map(([k, n]) => `${k} ${n}`).join(', ') || '0';
  const lines = [
    `Flood benchmark, ${new Date().toISOString()}: server ${server}; ${VICTIMS} victim chargers (one tenant) in a closed loop of StatusNotification, Heartbeat and MeterValues, OCPP 1.6; baseline ${SECONDS} s alone, then beside one charger of another tenant pipelining ${FLOOD} StatusNotification CALLs (at least ${SECONDS} s, until the flood is answered).`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; generators, server and database on the same machine.`,
    '',
    '| target | phase | victim msg/s | victim p50 / p99 / max ms | until the flood was answered: victim CALLs, p50 / p99 / max ms | victim errors | flood CALLRESULT | flood GenericError | flood other | flood all answered s |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.flatMap((r) => [
      `| ${r.target} | victims alone | ${f(r.baseline.rate)} | ${f(r.baseline.p50, 1)} / ${f(r.baseline.p99, 1)} / ${f(r.baseline.max, 1)} | — | ${r.baseline.errors} | — | — | — | — |`,
      `| ${r.target} | beside the flood | ${f(r.flood.rate)} | ${f(r.flood.p50, 1)} / ${f(r.flood.p99, 1)} / ${f(r.flood.max, 1)} | ${r.flood.window ? `${r.flood.window.n}, ${f(r.flood.window.p50, 1)} / ${f(r.flood.window.p99, 1)} / ${f(r.flood.window.max, 1)}` : 'n/a'} | ${r.flood.errors} | ${outcomes(r).CALLRESULT ?? 0} | ${outcomes(r).GenericError ?? 0} | ${others(r)}${r.flooder.unanswered ? `; ${r.flooder.unanswered} unanswered` : ''} | ${f(r.flooder.allAnsweredSeconds, 1)} |`,
    ]),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const maxPendingCalls = process.env.DYNAMO_OCPP_MAX_PENDING_CALLS ?? 'server default';
  await writeResult('flood', { machine, server: SERVER, commit, victims: VICTIMS, seconds: SECONDS, flood: FLOOD, maxPendingCalls, results });
}

void main();
