// npm run bench:embedded-vacuum — what the embedded database's vacuum keeper (src/store/vacuum-keeper.ts)
// costs: PGlite is one connection, so while it vacuums a table every other statement waits. On a
// generated history (N chargers × D days, rollups built) this times three passes, each with a
// trivial statement sent every 10 ms beside it (the longest it waited is the stall ingest would see):
//   first:   every table as a deployment that ran before the keeper existed has it (never vacuumed);
//   idle:    right after, nothing due (the cost of looking);
//   churn:   after rewrites like those heartbeats and status reports make (every charger's state,
//            open connection and connectors rewritten `--rewrites` times).
//
//   node dist/bench/embedded-vacuum.js --chargers 1000 --days 30 [--rewrites 20]
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { backfillBenchHistory, benchFleetDatabase } from './bench-fleet.js';
import { benchArgs } from './args.js';
import { writeResult } from './results.js';
import { openDatabase } from '../src/store/open.js';
import { refreshRollupsFully } from '../src/store/rollups.js';
import { dueTables } from '../src/store/vacuum.js';
import { VacuumKeeper } from '../src/store/vacuum-keeper.js';
import { createLogger } from '../src/logger.js';
import type { Db } from '../src/store/db.js';

const args = benchArgs();
const N = Number(args.get('chargers') ?? 1000);
const DAYS = Number(args.get('days') ?? 30);
const REWRITES = Number(args.get('rewrites') ?? 20);

type Pass = { pass: string; due: { table: string; vacuum: boolean; analyze: boolean }[]; seconds: number; probes: number; longestWaitMs: number; sizeMiBBefore: number; sizeMiBAfter: number };

const sizeMiB = async (db: Db) => (await db.query<{ mib: number }>(`SELECT (sum(pg_total_relation_size(relid)) / 1048576.0)::float8 AS mib FROM pg_stat_user_tables`))[0]!.mib;

/** One keeper pass with a probe statement every 10 ms beside it. */
async function pass(db: Db, name: string): Promise<Pass> {
  const keeper = new VacuumKeeper(db, createLogger('silent'), new Registry(), 3_600_000);
  const due = await dueTables(db);
  const sizeMiBBefore = await sizeMiB(db);
  let done = false;
  let longestWaitMs = 0;
  let probes = 0;
  const prober = (async () => {
    while (!done) {
      const t = performance.now();
      await db.query('SELECT 1');
      longestWaitMs = Math.max(longestWaitMs, performance.now() - t);
      probes++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const started = performance.now();
  await keeper.runOnce();
  const seconds = (performance.now() - started) / 1000;
  done = true;
  await prober;
  const result = { pass: name, due, seconds, probes, longestWaitMs, sizeMiBBefore, sizeMiBAfter: await sizeMiB(db) };
  process.stderr.write(`${name}: ${due.length} tables due, ${seconds.toFixed(2)} s, longest wait of a statement beside it ${longestWaitMs.toFixed(0)} ms, ${result.sizeMiBBefore.toFixed(0)} → ${result.sizeMiBAfter.toFixed(0)} MiB\n`);
  return result;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'dynamo-bench-vacuum-'));
  try {
    const fleet = await benchFleetDatabase('pglite', dir, 0, async (_db, f) => f.tenantId);
    const { db, release } = await openDatabase({ dataDir: dir, poolSize: 1 });
    try {
      process.stderr.write(`generating ${N} chargers × ${DAYS} days in PGlite…\n`);
      await backfillBenchHistory(db, fleet.extra, N, DAYS);
      await refreshRollupsFully(db, new Date(), 2000, 24 * 31);
      // Let the statistics of the generation reach the shared counters before the first look.
      await db.query('SELECT pg_stat_force_next_flush()');
      const passes = [await pass(db, 'first'), await pass(db, 'idle')];
      for (let i = 0; i < REWRITES; i++) {
        await db.query(`UPDATE charger_state SET last_seen = now(), last_heartbeat = now()`);
        await db.query(`UPDATE connections SET last_heard_at = now() WHERE disconnected_at IS NULL`);
        await db.query(`UPDATE connectors SET status_at = status_at`);
      }
      await db.query('SELECT pg_stat_force_next_flush()');
      await db.query('SELECT 1');
      passes.push(await pass(db, 'churn'));
      const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
      const lines = [
        `Embedded database vacuum, ${new Date().toISOString()}: PGlite, ${N} chargers × ${DAYS} days, rollups built; churn = ${REWRITES} rewrites of charger_state, open connections and connectors.`,
        `Command: node dist/bench/embedded-vacuum.js --chargers ${N} --days ${DAYS} --rewrites ${REWRITES}`,
        `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}.`,
        '',
        '| pass | tables due | seconds | longest wait of a statement beside it, ms | MiB before → after |',
        '|---|---|---|---|---|',
        ...passes.map((p) => `| ${p.pass} | ${p.due.map((d) => d.table).join(', ') || '—'} | ${p.seconds.toFixed(2)} | ${p.longestWaitMs.toFixed(0)} | ${p.sizeMiBBefore.toFixed(0)} → ${p.sizeMiBAfter.toFixed(0)} |`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
      await writeResult('embedded-vacuum', { machine, chargers: N, days: DAYS, rewrites: REWRITES, passes });
    } finally {
      await release();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
