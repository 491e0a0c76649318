// npm run bench:reliability-sessions — the EV-ChART Module 2 export (every session of a year,
// streamed) and the charge session success rate over generated sessions, on PostgreSQL
// (docs/compliance.md). Sessions are written straight into the tables, not through OCPP: what is
// measured is the reading side. Options: --chargers 200 (two ports each), --days 365,
// --per-day 3 (sessions per port per day), --runs 3.
import { benchArgs } from './args.js';
import { throwawayDatabase } from './throwaway-database.js';
import { openDatabase } from '../src/store/open.js';
import { migrate } from '../src/store/migrate.js';
import { createTenant } from '../src/store/tenants.js';
import { createSite } from '../src/store/sites.js';
import { insertCharger } from '../src/store/chargers.js';
import { module2Rows } from '../src/fleet/reliability/report.js';
import { sessionSuccess } from '../src/fleet/reliability/session-records.js';
import { csvChunks } from '../src/fleet/reliability/csv.js';
import { writeResult } from './results.js';

const args = benchArgs();
const CHARGERS = Number(args.get('chargers') ?? 200);
const DAYS = Number(args.get('days') ?? 365);
const PER_DAY = Number(args.get('per-day') ?? 3);
const RUNS = Number(args.get('runs') ?? 3);
const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function main() {
  const pgDb = await throwawayDatabase(PG_URL, 'dynamo_bench_sessions');
  const { db, release } = await openDatabase({ databaseUrl: pgDb.url, dataDir: '/nonexistent', poolSize: 2 });
  try {
    await migrate(db);
    const tenant = await createTenant(db, 'Bench');
    const site = await createSite(db, tenant.tenant_id, { name: 'Bench' });
    const to = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
    const from = new Date(to.getTime() - DAYS * 86_400_000);
    for (let i = 0; i < CHARGERS; i++) {
      await insertCharger(db, { chargePointId: `SES-${String(i).padStart(5, '0')}`, tenantId: tenant.tenant_id, siteId: site.site_id, passwordHash: null, registeredAt: from });
    }
    process.stderr.write(`generating ${CHARGERS} chargers × 2 ports × ${DAYS} days × ${PER_DAY} sessions…\n`);
    const g0 = performance.now();
    // Each session: 45 min, 20 kWh, four power readings; one in twenty stopped by a fault, one in ten delivers nothing.
    await db.query(
      `INSERT INTO sessions (charge_point_id, transaction_id, connector_id, id_tag, started_at, meter_start_wh, stopped_at, meter_stop_wh,
                             stop_reason, last_meter_wh, last_meter_at, received_at)
       SELECT c.charge_point_id, (d * 10 + p * 5 + k)::text, p, 'TAG', s, 0, s + interval '45 minutes',
              CASE WHEN (d + k) % 10 = 0 THEN 0 ELSE 20000 END, CASE WHEN (d + k + p) % 20 = 0 THEN 'PowerLoss' ELSE 'Local' END,
              CASE WHEN (d + k) % 10 = 0 THEN 0 ELSE 20000 END, s + interval '45 minutes', s
         FROM chargers c, generate_series(0, $2::int - 1) d, generate_series(1, 2) p, generate_series(0, $3::int - 1) k,
              LATERAL (SELECT $1::timestamptz + d * interval '1 day' + (8 + k * 4) * interval '1 hour' AS s) t
        WHERE c.tenant_id = $4`,
      [from, DAYS, PER_DAY, tenant.tenant_id],
    );
    await db.query(
      `INSERT INTO meter_samples (charge_point_id, session_id, connector_id, sampled_at, measurand, phase, value, unit, context)
       SELECT z.charge_point_id, z.session_id, z.connector_id, z.started_at + n * interval '10 minutes', 'Power.Active.Import', NULL,
              20000 + n * 5000, 'W', 'Sample.Periodic'
         FROM sessions z, generate_series(1, 4) n`,
    );
    await db.query('ANALYZE');
    const generateSeconds = (performance.now() - g0) / 1000;
    const [counts] = await db.query<{ sessions: number; samples: number }>(
      `SELECT (SELECT count(*)::int FROM sessions) AS sessions, (SELECT count(*)::int FROM meter_samples) AS samples`,
    );
    const scope = { tenantId: tenant.tenant_id };

    const exportMs: number[] = [];
    let rows = 0;
    let bytes = 0;
    let heapGrowthMb = 0;
    for (let r = 0; r < RUNS; r++) {
      rows = 0;
      bytes = 0;
      global.gc?.();
      const heap0 = process.memoryUsage().heapUsed;
      let heapMax = heap0;
      const t0 = performance.now();
      for await (const chunk of csvChunks([], module2Rows(db, scope, from, to))) {
        bytes += chunk.length;
        rows += chunk.split('\r\n').length - 1;
        heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
      }
      exportMs.push(performance.now() - t0);
      heapGrowthMb = Math.max(heapGrowthMb, (heapMax - heap0) / 1e6);
    }
    const rateMs: number[] = [];
    let fleet;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      fleet = (await sessionSuccess(db, scope, from, to)).fleet;
      rateMs.push(performance.now() - t0);
    }
    const result = {
      machine: process.version,
      chargers: CHARGERS,
      days: DAYS,
      ...counts,
      generateSeconds,
      module2: { name: `Module 2 CSV, ${rows - 1} sessions`, ms: exportMs.sort((a, b) => a - b), bytes, heapGrowthMb },
      successRate: { name: `session success rate, ${CHARGERS} chargers`, ms: rateMs.sort((a, b) => a - b), fleet },
    };
    process.stderr.write(`${JSON.stringify(result, null, 2)}\n`);
    await writeResult('reliability-sessions', result);
  } finally {
    await release();
    await pgDb.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
