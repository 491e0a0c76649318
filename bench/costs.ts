// npm run bench:costs — what a stored message costs on PostgreSQL, measured, and what that makes of a
// large fleet (issue 15, "costs on paper for 100,000 chargers"; docs/benchmarks.md).
//
// For each target (postgres: the message log on; postgres-log-off: off) a real `dynamo serve` holds N
// chargers driven by the load generator at a fixed, unsaturated rate for S seconds. Across that phase
// it reads the server's CPU, the CPU of every PostgreSQL process (backends, WAL writer, checkpointer,
// autovacuum: machine-wide, as is the WAL written, pg_current_wal_insert_lsn: nothing else may use the
// server meanwhile), the
// rows each table gained, changed or lost (pg_stat_user_tables) and how much each table grew on disk
// (indexes and TOAST included, partitions counted under their parent). Then, in a database of its own,
// a day of rollup maintenance: R chargers with two days of history (bulk SQL), the rollups built up to
// a day ago, then the last day rolled up as the keeper would, timed with its backend's CPU.
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { benchArgs } from './args.js';
import { BENCH_PG_URL as PG_URL, backfillBenchHistory, benchFleetDatabase } from './bench-fleet.js';
import { benchDatabase, cpuSeconds, lsnBytes, postgresCpuSeconds, SERVE_ENV, startLoadGenerator, startProcess, stopProcess } from './server-process.js';
import { writeResult } from './results.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/store/open.js';
import { migrate } from '../src/store/migrate.js';
import { refreshRollupsFully } from '../src/store/rollups.js';
import { createTenant } from '../src/store/tenants.js';

const args = benchArgs();
const N = Number(args.get('chargers') ?? 2000);
const RATE = Number(args.get('rate') ?? 400);
const SECONDS = Number(args.get('seconds') ?? 60);
const OCPP = args.get('ocpp') ?? '1.6';
const TARGETS = (args.get('targets') ?? 'postgres-log-off,postgres').split(',');
const ROLLUP_CHARGERS = Number(args.get('rollup-chargers') ?? 1000);
// What the figures are scaled to: a fleet, and the message rate of one charger (docs/benchmarks.md
// "100,000 chargers": one message a minute on average, a 300 s heartbeat and meter values every 60 s
// while charging a third of the time).
const FLEET = Number(args.get('fleet') ?? 100_000);
const SECONDS_PER_MESSAGE = Number(args.get('seconds-per-message') ?? 60);
const ROOT = new URL('../../', import.meta.url).pathname;
// Backends flush their table statistics when idle for a while (PostgreSQL 15: up to 10 s after a busy stretch).
const STATS_FLUSH_MS = 11_000;
// The chargers connected and quiet: what the server and the database spend with no message to store
// (timers, polls, keepers), measured over the last IDLE_MS of the pause before the measured phase.
const IDLE_MS = 6_000;
const YEAR_S = 365.25 * 86_400;

const DEFAULTS = loadConfig({});
/** Tables whose rows are kept only for a number of days (README: the retention settings, at their defaults): their size is bounded. */
const RETAINED_DAYS: Record<string, number> = {
  ocpp_messages: DEFAULTS.messageLogRetentionDays,
  fleet_events: DEFAULTS.eventsRetentionDays,
  webhook_deliveries: DEFAULTS.eventsRetentionDays,
  transaction_event_seq: DEFAULTS.transactionGuardDays,
};
/**
 * The tables that grow with what chargers say (the history, the logs; transaction_event_seq keeps every
 * 2.x TransactionEvent's seqNo for DYNAMO_TRANSACTION_GUARD_DAYS). The others hold a row per
 * charger, connector or node (state, holds, rollup bookkeeping): written often, bounded by the fleet.
 */
const GROWING = new Set(['meter_samples', 'transaction_event_seq', 'connector_status_events', 'connector_status_intervals', 'sessions', 'connections', 'error_events', 'charger_messages', 'fleet_events', 'ocpp_messages', 'maintenance_events', 'alerts', 'commands', 'webhook_deliveries']);

interface Snapshot {
  serverCpu: number;
  databaseCpu: number;
  /** The WAL insert position, bytes. */
  wal: number;
  /** Per table: rows inserted, and rows inserted, updated or deleted, so far. */
  inserted: Map<string, number>;
  written: Map<string, number>;
}

interface TableCost {
  table: string;
  /** Rows inserted, updated or deleted per message. */
  writtenPerMessage: number;
  /** Rows inserted per message: what the table keeps of each message. */
  insertedPerMessage: number;
  /** The table's size (indexes and TOAST included) per row it holds, compacted (VACUUM FULL) at the end of the run. */
  bytesPerRow: number;
}

interface TargetResult {
  target: string;
  messages: number;
  achievedRate: number;
  serverCpuUsPerMessage: number;
  databaseCpuUsPerMessage: number;
  /** CPU with the chargers connected and quiet, ms per second. */
  serverIdleMsPerSecond: number;
  databaseIdleMsPerSecond: number;
  /** The per-message CPU less the idle CPU of the phase's duration: what one more message costs. */
  serverMarginalUsPerMessage: number;
  databaseMarginalUsPerMessage: number;
  walBytesPerMessage: number;
  rowsWrittenPerMessage: number;
  /** What the database keeps of one message: the sum over tables of rows inserted × bytes per row. */
  bytesKeptPerMessage: number;
  tables: TableCost[];
}

/** Per table (partitions under their parent): rows inserted, and rows inserted, updated and deleted, so far. */
async function rowCounters(c: pg.Client): Promise<{ inserted: Map<string, number>; written: Map<string, number> }> {
  const { rows } = await c.query<{ t: string; inserted: string; written: string }>(
    `SELECT coalesce(parent.relname, s.relname) AS t,
            sum(s.n_tup_ins)::text AS inserted,
            sum(s.n_tup_ins + s.n_tup_upd + s.n_tup_del)::text AS written
       FROM pg_stat_user_tables s
       LEFT JOIN pg_inherits i ON i.inhrelid = s.relid
       LEFT JOIN pg_class parent ON parent.oid = i.inhparent
      GROUP BY 1`,
  );
  return { inserted: new Map(rows.map((r) => [r.t, Number(r.inserted)])), written: new Map(rows.map((r) => [r.t, Number(r.written)])) };
}

const MIN_ROWS = 1000;

/** A table's size with its indexes and TOAST (its partitions' for a partitioned one) per row it holds; NaN when empty. */
async function bytesPerRow(c: pg.Client, table: string): Promise<number> {
  const { rows } = await c.query<{ bytes: string; n: string }>(
    `SELECT (SELECT sum(pg_total_relation_size(r))::text FROM (SELECT $1::regclass AS r UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass) p) AS bytes,
            (SELECT count(*)::text FROM ${pg.escapeIdentifier(table)}) AS n`,
    [table],
  );
  // A table of a few rows is mostly the fixed pages of its indexes: its bytes per row would say nothing.
  return Number(rows[0]!.n) >= MIN_ROWS ? Number(rows[0]!.bytes) / Number(rows[0]!.n) : NaN;
}

async function cpuNow(serverPid: number): Promise<{ serverCpu: number; databaseCpu: number }> {
  return { serverCpu: await cpuSeconds(serverPid), databaseCpu: await postgresCpuSeconds() };
}

async function snapshot(c: pg.Client, serverPid: number): Promise<Snapshot> {
  return { ...(await cpuNow(serverPid)), wal: await walPosition(c), ...(await rowCounters(c)) };
}

/** The server's WAL insert position in bytes (the whole server's: nothing else may write during a measurement). */
async function walPosition(c: pg.Client): Promise<number> {
  return lsnBytes((await c.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l);
}

async function measureTarget(target: string): Promise<TargetResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dynamo-costs-'));
  const fleet = await benchFleetDatabase('postgres', dataDir, N);
  const logOff: Record<string, string> = target.endsWith('-log-off') ? { DYNAMO_MESSAGE_LOG: 'false' } : {};
  const server = await startProcess([join(ROOT, 'dist/src/cli/main.js'), 'serve'], { ...fleet.env, ...SERVE_ENV, ...logOff });
  const pid = server.child.pid!;
  const c = new pg.Client({ connectionString: fleet.databaseUrl });
  await c.connect();
  try {
    process.stderr.write(`[${target}] ${N} chargers, ${RATE} msg/s for ${SECONDS} s…\n`);
    const gen = startLoadGenerator(
      ['--url', `${server.url.replace('http', 'ws')}/ocpp`, '--chargers', String(N), '--ocpp', OCPP, '--phases', 'half', '--half-rate', String(RATE), '--half-seconds', String(SECONDS), '--settle-seconds', String((STATS_FLUSH_MS + IDLE_MS) / 1000)],
      target,
    );
    let before: Snapshot | undefined;
    let idle: { at: number; serverCpu: number; databaseCpu: number } | undefined;
    let cpuAtEnd: { serverCpu: number; databaseCpu: number } | undefined;
    let idleEnd = 0;
    let half: { achieved: number; errors: number } | undefined;
    for await (const m of gen.phases) {
      // Idle from STATS_FLUSH_MS after connecting (what connecting left to do is done) to the end of the pause.
      if (m.phase === 'connected') {
        await new Promise((r) => setTimeout(r, STATS_FLUSH_MS));
        idle = { at: performance.now(), ...(await cpuNow(pid)) };
      }
      // The generator starts the measured phase right after this line; what the snapshot misses of its first milliseconds is noise.
      if (m.phase === 'settled') {
        idleEnd = performance.now();
        before = await snapshot(c, pid);
      }
      if (m.phase === 'half') {
        half = { achieved: m.achieved, errors: m.errors };
        cpuAtEnd = await cpuNow(pid);
      }
    }
    if (!before || !half || !idle || !cpuAtEnd) throw new Error(`${target}: the load generator did not complete its phase`);
    if (half.errors > 0) throw new Error(`${target}: ${half.errors} CALLs failed; the figures would not be per stored message`);
    await new Promise((r) => setTimeout(r, STATS_FLUSH_MS));
    const after = await snapshot(c, pid);
    const walBytes = after.wal - before.wal;
    const messages = half.achieved * SECONDS;
    // Compacted, so a row's bytes are what a table keeps of it, not the dead versions a short run leaves before vacuum.
    await stopProcess(server.child);
    await c.query('VACUUM FULL');
    const tables: TableCost[] = [];
    for (const table of after.written.keys()) {
      const writtenPerMessage = (after.written.get(table)! - (before.written.get(table) ?? 0)) / messages;
      if (writtenPerMessage <= 0) continue;
      const insertedPerMessage = (after.inserted.get(table)! - (before.inserted.get(table) ?? 0)) / messages;
      tables.push({ table, writtenPerMessage, insertedPerMessage, bytesPerRow: await bytesPerRow(c, table) });
    }
    tables.sort((a, b) => kept(b) - kept(a) || b.writtenPerMessage - a.writtenPerMessage);
    const idleSeconds = (idleEnd - idle.at) / 1000;
    const serverIdle = (before.serverCpu - idle.serverCpu) / idleSeconds;
    const databaseIdle = (before.databaseCpu - idle.databaseCpu) / idleSeconds;
    const serverCpu = cpuAtEnd.serverCpu - before.serverCpu;
    const databaseCpu = cpuAtEnd.databaseCpu - before.databaseCpu;
    return {
      target,
      messages,
      achievedRate: half.achieved,
      serverCpuUsPerMessage: (serverCpu * 1e6) / messages,
      databaseCpuUsPerMessage: (databaseCpu * 1e6) / messages,
      serverIdleMsPerSecond: serverIdle * 1000,
      databaseIdleMsPerSecond: databaseIdle * 1000,
      serverMarginalUsPerMessage: ((serverCpu - serverIdle * SECONDS) * 1e6) / messages,
      databaseMarginalUsPerMessage: ((databaseCpu - databaseIdle * SECONDS) * 1e6) / messages,
      walBytesPerMessage: walBytes / messages,
      rowsWrittenPerMessage: tables.reduce((s, t) => s + t.writtenPerMessage, 0),
      bytesKeptPerMessage: tables.reduce((s, t) => s + kept(t), 0),
      tables,
    };
  } finally {
    await c.end();
    await stopProcess(server.child);
    await fleet.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface RollupDay {
  chargers: number;
  seconds: number;
  databaseCpuSeconds: number;
  rows: number;
  walBytes: number;
  /** rollup_hours (and its indexes) per charger and day, once built. */
  bytesPerChargerDay: number;
}

/** One day of rollup maintenance for R chargers: the last of two days of history rolled up, as the keeper does each day. */
async function measureRollupDay(): Promise<RollupDay> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dynamo-costs-'));
  const database = await benchDatabase('postgres', dataDir, PG_URL);
  const { db, release } = await openDatabase({ databaseUrl: database.databaseUrl, dataDir, poolSize: 2 });
  const c = new pg.Client({ connectionString: database.databaseUrl });
  try {
    await migrate(db);
    const tenant = await createTenant(db, 'Bench');
    process.stderr.write(`[rollups] ${ROLLUP_CHARGERS} chargers × 2 days of history…\n`);
    await backfillBenchHistory(db, tenant.tenant_id, ROLLUP_CHARGERS, 2);
    const now = new Date();
    await refreshRollupsFully(db, new Date(now.getTime() - 86_400_000), 2000, 24 * 31);
    await db.query('CHECKPOINT');
    await c.connect();
    const size = async () => Number((await c.query<{ b: string }>(`SELECT pg_total_relation_size('rollup_hours')::text AS b`)).rows[0]!.b);
    const cpuBefore = await postgresCpuSeconds();
    const walBefore = await walPosition(c);
    const sizeBefore = await size();
    const t0 = performance.now();
    const rows = await refreshRollupsFully(db, now, 2000, 24 * 31);
    const seconds = (performance.now() - t0) / 1000;
    const walBytes = (await walPosition(c)) - walBefore;
    const databaseCpuSeconds = (await postgresCpuSeconds()) - cpuBefore;
    return { chargers: ROLLUP_CHARGERS, seconds, databaseCpuSeconds, rows, walBytes, bytesPerChargerDay: ((await size()) - sizeBefore) / ROLLUP_CHARGERS };
  } finally {
    await c.end().catch(() => undefined);
    await release();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const gib = (bytes: number) => f(bytes / 2 ** 30, 1);

/** Bytes a table keeps of one message. */
const kept = (t: TableCost) => (GROWING.has(t.table) && t.insertedPerMessage > 0 && Number.isFinite(t.bytesPerRow) ? t.insertedPerMessage * t.bytesPerRow : 0);

/** A year of a table for the fleet: a table kept for a number of days holds only those days; one only updated does not grow. */
function yearBytes(t: TableCost, messagesPerSecond: number): number {
  const days = RETAINED_DAYS[t.table];
  return kept(t) * messagesPerSecond * (days ? days * 86_400 : YEAR_S);
}

async function main() {
  const results: TargetResult[] = [];
  for (const t of TARGETS) results.push(await measureTarget(t));
  const rollup = await measureRollupDay();

  const fleetRate = FLEET / SECONDS_PER_MESSAGE;
  const cmd = `node dist/bench/costs.js ${process.argv.slice(2).join(' ')}`.trim();
  const lines = [
    `# What a stored message costs, ${new Date().toISOString()}`,
    '',
    `\`${cmd}\``,
    '',
    `Machine: ${cpus()[0]?.model}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; PostgreSQL, load generator and server on the same machine.`,
    `${N} chargers speaking OCPP ${OCPP} at ${RATE} msg/s for ${SECONDS} s (the bench cycle: sessions with ten meter values each, status changes, heartbeats). Per answered message:`,
    '',
    '| target | messages | server CPU µs (idle ms/s; less idle µs) | PostgreSQL CPU µs (idle ms/s; less idle µs) | WAL bytes | rows written | bytes kept |',
    '|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.target} | ${f(r.messages)} | ${f(r.serverCpuUsPerMessage)} (${f(r.serverIdleMsPerSecond, 1)}; ${f(r.serverMarginalUsPerMessage)}) | ${f(r.databaseCpuUsPerMessage)} (${f(r.databaseIdleMsPerSecond, 1)}; ${f(r.databaseMarginalUsPerMessage)}) | ${f(r.walBytesPerMessage)} | ${f(r.rowsWrittenPerMessage, 2)} | ${f(r.bytesKeptPerMessage)} |`,
    ),
    '',
    'Idle: CPU per second with the chargers connected and quiet (timers, polls, keepers); less idle: the per-message CPU after taking the idle CPU of the phase off, what one more message costs.',
    '',
    `Rows written: inserted, updated or deleted. Bytes kept: per table, rows inserted per message × the table's size (indexes and TOAST included) per row once compacted (VACUUM FULL at the end of the run); tables of a row per charger, connector or node keep nothing more per message, however often they are written; n/a: fewer than ${MIN_ROWS} rows at the end, too few to tell (left out of the total). A year of it for ${f(FLEET)} chargers at one message per ${SECONDS_PER_MESSAGE} s (${f(fleetRate)} msg/s); ${Object.entries(RETAINED_DAYS).map(([t, d]) => `${t} keeps ${d} days`).join(', ')}:`,
    '',
  ];
  for (const r of results) {
    lines.push(`**${r.target}**`, '', '| table | rows written / msg | rows inserted / msg | bytes / row | bytes kept / msg | a year, GiB |', '|---|---|---|---|---|---|');
    for (const t of r.tables) lines.push(`| ${t.table} | ${f(t.writtenPerMessage, 3)} | ${f(t.insertedPerMessage, 3)} | ${f(t.bytesPerRow)} | ${f(kept(t))} | ${gib(yearBytes(t, fleetRate))} |`);
    const year = r.tables.reduce((s, t) => s + yearBytes(t, fleetRate), 0);
    lines.push(`| **all** | ${f(r.rowsWrittenPerMessage, 2)} | | | ${f(r.bytesKeptPerMessage)} | **${gib(year)}** |`, '');
  }
  const perDayFleet = FLEET / rollup.chargers;
  lines.push(
    `A day of rollup maintenance (${f(rollup.chargers)} chargers, the last of two days of bench history rolled up): ${f(rollup.seconds, 2)} s, ${f(rollup.databaseCpuSeconds, 2)} s of PostgreSQL CPU, ${f(rollup.rows)} rows, ${f(rollup.walBytes / 2 ** 20, 1)} MiB of WAL; rollup_hours grows ${f(rollup.bytesPerChargerDay)} bytes per charger and day.`,
    `For ${f(FLEET)} chargers: ${f(rollup.databaseCpuSeconds * perDayFleet)} s of PostgreSQL CPU and ${gib(rollup.walBytes * perDayFleet)} GiB of WAL a day; rollup_hours ${gib(rollup.bytesPerChargerDay * FLEET * 365.25)} GiB a year.`,
  );
  const md = lines.join('\n') + '\n';
  process.stdout.write(md);
  await writeResult('costs', { command: cmd, chargers: N, rate: RATE, seconds: SECONDS, ocpp: OCPP, fleet: FLEET, secondsPerMessage: SECONDS_PER_MESSAGE, results, rollup }, md);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
