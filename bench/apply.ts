// node dist/bench/apply.js — the database's share of ingest, without sockets (docs/benchmarks.md).
// For each build (this one and, with --compare, another build's dist/src/cli/main.js) it prepares a
// fresh database with that build's store modules, connects N chargers, then applies the events of
// the 1.6 bench cycle (Authorize, StartTransaction, StatusNotification, 10 × MeterValues,
// StopTransaction, StatusNotification: the messages that reach the database) through that build's
// own applyBatch in group-commit batches of B messages, on one connection. Reported per message:
// wall time, the PostgreSQL backend's CPU (its /proc stat), WAL bytes (pg_current_wal_insert_lsn,
// which counts every database of the server: run it when nothing else writes) and rows written.
// --ocpp 2.0.1: the OCPP 2.x cycle instead (Authorize, TransactionEvent Started, StatusNotification
// Occupied, 10 × TransactionEvent Updated with meter values, Ended, StatusNotification Available): the
// simulator's 2.x dialect writes each payload and the build's own 2.0.1 handlers turn it into events,
// so a --compare measures each build's adapters and SQL together, as a charger would reach them.
import { BENCH_PG_URL as PG_URL } from './bench-fleet.js';
import { execFileSync } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs } from './args.js';
import { benchDatabase, cpuSeconds, lsnBytes } from './server-process.js';
import { writeResult } from './results.js';
import { dialectFor, type Dialect } from '../src/sim/dialects.js';

const args = benchArgs();
const ROOT = new URL('../../', import.meta.url).pathname;
const N = Number(args.get('chargers') ?? 2000);
const BATCH = Number(args.get('batch') ?? 100);
const CYCLES = Number(args.get('cycles') ?? 3);
const REPEAT = Number(args.get('repeat') ?? 2);
const TARGETS = (args.get('targets') ?? 'postgres').split(',') as ('postgres' | 'pglite')[];
const OCPP = args.get('ocpp') ?? '1.6';
if (OCPP !== '1.6' && OCPP !== '2.0.1') throw new Error(`--ocpp ${OCPP}: this bench knows 1.6 and 2.0.1`);
const BUILDS = [join(ROOT, 'dist/src/cli/main.js'), ...(args.get('compare') ? [resolve(args.get('compare')!)] : [])];

function commitOf(server: string): string {
  try {
    const git = (...a: string[]) => execFileSync('git', ['-C', dirname(server), ...a], { encoding: 'utf8' }).trim();
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '+changes' : '');
  } catch {
    return '?';
  }
}

async function buildOf(server: string) {
  const mod = <T>(file: string): Promise<T> => import(pathToFileURL(join(dirname(server), '..', file)).href);
  const batchSource = await readFile(join(dirname(server), '../ingest/batch.js'), 'utf8');
  return {
    ...(await mod<typeof import('../src/store/open.js')>('store/open.js')),
    ...(await mod<typeof import('../src/store/migrate.js')>('store/migrate.js')),
    ...(await mod<typeof import('../src/store/tenants.js')>('store/tenants.js')),
    ...(await mod<typeof import('../src/store/sites.js')>('store/sites.js')),
    ...(await mod<typeof import('../src/store/chargers.js')>('store/chargers.js')),
    ...(await mod<typeof import('../src/ingest/batch.js')>('ingest/batch.js')),
    // Builds before the message unit (043f009) take one flat list of events per batch.
    perMessage: batchSource.includes('text[]'),
    v201: OCPP === '2.0.1'
      ? {
          ...(await mod<typeof import('../src/ocpp/v201/transaction-event.js')>('ocpp/v201/transaction-event.js')),
          ...(await mod<typeof import('../src/ocpp/v201/status-notification.js')>('ocpp/v201/status-notification.js')),
          ...(await mod<typeof import('../src/ocpp/v201/authorize.js')>('ocpp/v201/authorize.js')),
        }
      : undefined,
  };
}

type Ev = Record<string, unknown>;

/** The messages of one 1.6 cycle of charger i (as the 1.6 handlers turn them into events). */
function cycle(cp: string, tx: () => string | undefined, energy: number, t: number): Ev[][] {
  const at = (k: number) => new Date(t + k * 1000);
  const msgs: Ev[][] = [];
  msgs.push([{ type: 'Noted', cp, kind: 'Authorize', payload: { idTag: 'BENCHTAG' }, at: at(0), receivedAt: at(0) }]);
  msgs.push([{ type: 'SessionStarted', cp, connectorId: 1, idTag: 'BENCHTAG', meterStartWh: energy, at: at(1), receivedAt: at(1) }]);
  msgs.push([{ type: 'StatusChanged', cp, connectorId: 1, evseId: null, status: 'Charging', errorCode: 'NoError', info: null, vendorId: null, vendorErrorCode: null, chargerTime: at(2), at: at(2), receivedAt: at(2) }]);
  for (let k = 0; k < 10; k++) {
    msgs.push([{ type: 'MeterSampled', cp, connectorId: 1, transactionId: '@tx', receivedAt: at(3 + k), samples: [
      { sampledAt: at(3 + k), measurand: 'Energy.Active.Import.Register', phase: null, value: energy + 30 * (k + 1), unit: 'Wh', context: null },
      { sampledAt: at(3 + k), measurand: 'Power.Active.Import', phase: null, value: 11000, unit: 'W', context: null },
    ] }]);
  }
  msgs.push([{ type: 'SessionEnded', cp, transactionId: '@tx', meterStopWh: energy + 300, reason: 'EVDisconnected', at: at(13), receivedAt: at(13) }]);
  msgs.push([{ type: 'StatusChanged', cp, connectorId: 1, evseId: null, status: 'Available', errorCode: 'NoError', info: null, vendorId: null, vendorErrorCode: null, chargerTime: at(14), at: at(14), receivedAt: at(14) }]);
  void tx;
  return msgs;
}

type V201 = NonNullable<Awaited<ReturnType<typeof buildOf>>['v201']>;

/** The events a build's 2.0.1 handler makes of one payload (what it would submit for commit). */
async function eventsOf(handler: (ctx: any, p: any) => Promise<unknown>, cp: string, payload: Record<string, unknown>): Promise<Ev[]> {
  let events: Ev[] = [];
  const ctx = { conn: { cp }, droppedSamples: () => {}, heartbeat: () => {}, heartbeatIntervalSec: 300, submit: async (e: Ev[]) => ((events = e), []) };
  await handler(ctx, payload);
  return events;
}

/** The messages of one OCPP 2.x cycle of a charger, as the build's 2.0.1 handlers turn them into events. */
async function cycle2x(v201: V201, dialect: Dialect, cp: string, transactionId: string, energy: number, t: number): Promise<Ev[][]> {
  const at = (k: number) => new Date(t + k * 1000);
  const tx = (call: [string, Record<string, unknown>]) => eventsOf(v201.transactionEvent, cp, call[1]);
  const status = (call: [string, Record<string, unknown>]) => eventsOf(v201.statusNotification, cp, call[1]);
  const msgs: Ev[][] = [await eventsOf(v201.authorize, cp, { idToken: { idToken: 'BENCHTAG', type: 'ISO14443' } })];
  msgs.push(await tx(dialect.startSession(1, transactionId, energy, at(1))));
  msgs.push(await status(dialect.status(1, 'Charging', at(2))));
  for (let k = 0; k < 10; k++) msgs.push(await tx(dialect.meter(1, transactionId, energy + 30 * (k + 1), 11000, at(3 + k))));
  msgs.push(await tx(dialect.stopSession(1, transactionId, energy + 300, 'EVDisconnected', at(13))));
  msgs.push(await status(dialect.status(1, 'Available', at(14))));
  return msgs;
}

async function run(target: 'postgres' | 'pglite', server: string, rep: number) {
  const b = await buildOf(server);
  const dataDir = await mkdtemp(join(tmpdir(), 'dynamo-apply-'));
  const database = await benchDatabase(target, dataDir, PG_URL);
  const { db, release } = await b.openDatabase({ databaseUrl: database.databaseUrl, dataDir, poolSize: 1 });
  try {
    await b.migrate(db);
    const tenant = await b.createTenant(db, 'Bench');
    const site = await b.createSite(db, tenant.tenant_id, { name: 'Bench site' });
    await db.transaction(async (tx) => {
      for (let i = 0; i < N; i++) await b.insertCharger(tx, { chargePointId: `BENCH-${i}`, tenantId: tenant.tenant_id, siteId: site.site_id, passwordHash: null });
    });
    // Builds since the event-log wake-up return { results, eventsWritten }; older ones the results alone.
    const resultsOf = (out: unknown) => (Array.isArray(out) ? out : (out as { results: unknown[] }).results);
    const apply = async (messages: Ev[][]) =>
      b.perMessage
        ? (resultsOf(await (b.applyBatch as any)(db, messages)) as unknown[][])
        : regroup(messages, resultsOf(await (b.applyBatch as any)(db, messages.flat())));
    for (let i = 0; i < N; i += BATCH) {
      await apply(Array.from({ length: Math.min(BATCH, N - i) }, (_, k) => [{ type: 'Connected', cp: `BENCH-${i + k}`, at: new Date(), nodeId: 'bench', ocppVersion: OCPP, remoteAddress: null }]));
    }
    const [{ pid }] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then((r) => r as any);
    const lsn = async () => (await db.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l'))[0]!.l;
    const rowsWritten = async () => Number((await db.query<{ n: string }>('SELECT sum(n_tup_ins + n_tup_upd + n_tup_del)::text AS n FROM pg_stat_user_tables'))[0]!.n);
    const cpu0 = target === 'postgres' ? await cpuSeconds(pid) : 0;
    const wal0 = lsnBytes(await lsn());
    const rows0 = target === 'postgres' ? await rowsWritten() : 0;
    const t = Date.now() - 3_600_000;
    // Every message is made before the clock starts, so the wall time is the database's round trips.
    const dialect = dialectFor('ocpp2.0.1'); // each run its own: the dialect numbers each transaction's seqNo
    const cycles: Ev[][][][] = [];
    for (let c = 0; c < CYCLES; c++) {
      cycles.push(await Promise.all(Array.from({ length: N }, (_, i) => (b.v201
        ? cycle2x(b.v201, dialect, `BENCH-${i}`, `TX-${i}-${c}`, 1000 * c, t + c * 20_000)
        : cycle(`BENCH-${i}`, () => undefined, 1000 * c, t + c * 20_000)))));
    }
    const t0 = performance.now();
    let messages = 0;
    for (const perCharger of cycles) {
      // OCPP 1.6: the CSMS hands out transaction ids, so the MeterValues and the stop name the one the start got.
      const txIds = new Map<number, string>();
      // Step k of every charger, then step k+1: as the bench's closed loop interleaves chargers.
      for (let step = 0; step < perCharger[0]!.length; step++) {
        for (let i = 0; i < N; i += BATCH) {
          const slice = perCharger.slice(i, i + BATCH).map((msgs, k) =>
            msgs[step]!.map((e) => (e.transactionId === '@tx' ? { ...e, transactionId: txIds.get(i + k) } : e)),
          );
          const results = await apply(slice);
          messages += slice.length;
          if (step === 1 && !b.v201) results.forEach((r, k) => txIds.set(i + k, (r[0] as { transactionId: string }).transactionId));
        }
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = target === 'postgres' ? (await cpuSeconds(pid)) - cpu0 : NaN;
    // A busy backend flushes its table statistics only after being idle for a while (up to 10 s in
    // PostgreSQL 15): asked to, it flushes as it goes idle after this statement.
    if (target === 'postgres') await db.query('SELECT pg_stat_force_next_flush()');
    const rows = target === 'postgres' ? (await rowsWritten()) - rows0 : NaN;
    const wal = lsnBytes(await lsn()) - wal0;
    return { target, build: commitOf(server), rep, messages, seconds, msgPerSec: messages / seconds, usPerMessage: (1e6 * seconds) / messages, backendCpuUsPerMessage: (1e6 * cpu) / messages, walBytesPerMessage: wal / messages, rowsPerMessage: rows / messages };
  } finally {
    await release();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function regroup(messages: Ev[][], flat: unknown[]): unknown[][] {
  let k = 0;
  return messages.map((m) => m.map(() => flat[k++]));
}

async function main() {
  const results = [];
  for (let rep = 1; rep <= REPEAT; rep++) {
    for (const target of TARGETS) {
      for (const server of BUILDS) {
        const r = await run(target, server, rep);
        process.stderr.write(JSON.stringify(r) + '\n');
        results.push(r);
      }
    }
  }
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  process.stdout.write(
    [
      `dynamo_apply benchmark, ${new Date().toISOString()}: ${N} chargers, ${CYCLES} cycles of the ${OCPP} bench cycle (15 stored messages each), batches of ${BATCH} messages on one connection, ${REPEAT} repetition(s).`,
      `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}.`,
      '',
      '| target | build | rep | messages | msg/s | µs/message (wall) | backend CPU µs/message | WAL bytes/message | rows written/message |',
      '|---|---|---|---|---|---|---|---|---|',
      ...results.map((r) => `| ${r.target} | ${r.build} | ${r.rep} | ${r.messages} | ${f(r.msgPerSec)} | ${f(r.usPerMessage, 1)} | ${f(r.backendCpuUsPerMessage, 1)} | ${f(r.walBytesPerMessage)} | ${f(r.rowsPerMessage, 2)} |`),
    ].join('\n') + '\n',
  );
  await writeResult('apply', { machine, ocpp: OCPP, chargers: N, batch: BATCH, cycles: CYCLES, results });
  process.exit(0);
}

void main();
