// npm run bench:reliability — the NEVI report (previous twelve months, every port) over a year of a
// generated network, on PostgreSQL, beside the fleet uptime query over the same history and period
// as the baseline measured in the same run (docs/compliance.md, docs/benchmarks.md).
// Options: --chargers 500 (two ports each: 1,000 ports), --days 365, --runs 5.
import { benchArgs } from './args.js';
import { throwawayDatabase } from './throwaway-database.js';
import { openDatabase } from '../src/store/open.js';
import { migrate } from '../src/store/migrate.js';
import { createTenant } from '../src/store/tenants.js';
import { backfillHistory } from '../src/sim/backfill.js';
import { fleetUptime } from '../src/fleet/uptime.js';
import { regimeReport } from '../src/fleet/reliability/report.js';
import { writeResult } from './results.js';

const args = benchArgs();
const CHARGERS = Number(args.get('chargers') ?? 500);
const DAYS = Number(args.get('days') ?? 365);
const RUNS = Number(args.get('runs') ?? 5);
const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number[]; last: T }> {
  const ms: number[] = [];
  let last!: T;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    last = await fn();
    ms.push(performance.now() - t0);
  }
  return { ms: ms.sort((a, b) => a - b), last };
}

async function main() {
  const pgDb = await throwawayDatabase(PG_URL, 'dynamo_bench_reliability');
  const { db, release } = await openDatabase({ databaseUrl: pgDb.url, dataDir: '/nonexistent', poolSize: 2 });
  try {
    await migrate(db);
    const tenant = await createTenant(db, 'Bench');
    process.stderr.write(`generating ${CHARGERS} chargers × ${DAYS} days…\n`);
    const g0 = performance.now();
    await backfillHistory(db, { tenantId: tenant.tenant_id, days: DAYS, chargers: CHARGERS, sites: 10, sitePrefix: 'site_rel_', chargerPrefix: 'REL-' });
    await db.query('ANALYZE');
    const generateSeconds = (performance.now() - g0) / 1000;
    const [counts] = await db.query<{ ports: number; intervals: number; connections: number }>(
      `SELECT (SELECT count(*)::int FROM connectors WHERE connector_id > 0) AS ports,
              (SELECT count(*)::int FROM connector_status_intervals) AS intervals, (SELECT count(*)::int FROM connections) AS connections`,
    );
    const to = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
    const from = new Date(to.getTime() - 30 * 86_400_000);
    const yearFrom = new Date(to.getTime() - DAYS * 86_400_000);
    const scope = { tenantId: tenant.tenant_id };
    const baseline = await timed(() => fleetUptime(db, scope, yearFrom, to));
    const nevi = await timed(() => regimeReport(db, scope, 'nevi', from, to));
    const result = {
      machine: process.version,
      chargers: CHARGERS,
      days: DAYS,
      ...counts,
      generateSeconds,
      baseline: { name: `fleet uptime, ${CHARGERS} chargers × ${DAYS} d`, ms: baseline.ms },
      nevi: { name: `NEVI report, previous 12 months, ${nevi.last.ports.length} ports`, ms: nevi.ms, targetMs: 1000 },
    };
    const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
    process.stderr.write(
      `${counts!.ports} ports, ${counts!.intervals} status intervals, ${counts!.connections} connections\n` +
        `baseline fleet uptime: median ${median(baseline.ms).toFixed(0)} ms\n` +
        `NEVI report: median ${median(nevi.ms).toFixed(0)} ms (target < 1000 ms)\n`,
    );
    await writeResult('reliability', result);
  } finally {
    await release();
    await pgDb.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
