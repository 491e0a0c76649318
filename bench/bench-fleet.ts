// The fleet every process benchmark starts from: one tenant, one site and `count` registered
// chargers BENCH-0 … BENCH-(count−1), made through the store layer in a fresh database.
import type { Db } from '../src/store/db.js';
import { openDatabase } from '../src/store/open.js';
import { migrate } from '../src/store/migrate.js';
import { createTenant } from '../src/store/tenants.js';
import { createSite } from '../src/store/sites.js';
import { insertCharger } from '../src/store/chargers.js';
import { benchDatabase } from './server-process.js';
import { backfillHistory } from '../src/sim/backfill.js';
import { refreshRollupsFully } from '../src/store/rollups.js';

/** The PostgreSQL server the benchmarks make their throwaway databases on. */
export const BENCH_PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchFleet {
  tenantId: string;
  siteId: string;
}

export async function registerBenchFleet(db: Db, count: number): Promise<BenchFleet> {
  const tenant = await createTenant(db, 'Bench');
  const site = await createSite(db, tenant.tenant_id, { name: 'Bench site' });
  await db.transaction(async (tx) => {
    for (let i = 0; i < count; i++) await insertCharger(tx, { chargePointId: `BENCH-${i}`, tenantId: tenant.tenant_id, siteId: site.site_id, passwordHash: null });
  });
  return { tenantId: tenant.tenant_id, siteId: site.site_id };
}

/**
 * A fresh database (PGlite in `dataDir`, or a throwaway PostgreSQL one) migrated and holding the
 * bench fleet; `also` adds what a benchmark needs besides (an API key, say) while it is open.
 * `env` is what `dynamo serve` needs to use it; `drop` removes the PostgreSQL one.
 */
export async function benchFleetDatabase<T = undefined>(
  target: 'pglite' | 'postgres',
  dataDir: string,
  count: number,
  also?: (db: Db, fleet: BenchFleet) => Promise<T>,
): Promise<{ databaseUrl?: string; env: Record<string, string>; drop: () => Promise<void>; extra: T }> {
  const database = await benchDatabase(target, dataDir, BENCH_PG_URL);
  const { db, release } = await openDatabase({ databaseUrl: database.databaseUrl, dataDir, poolSize: 2 });
  try {
    await migrate(db);
    const fleet = await registerBenchFleet(db, count);
    const extra = (also ? await also(db, fleet) : undefined) as T;
    return { ...database, extra };
  } finally {
    await release();
  }
}

/**
 * The history the API benchmarks read: `chargers` × `days` over 10 sites `site_bench_1` …, chargers
 * `CP-00000` … (src/sim/backfill.ts), written by bulk SQL for the tenant.
 */
export function backfillBenchHistory(db: Db, tenantId: string, chargers: number, days: number): Promise<unknown> {
  return backfillHistory(db, { tenantId, days, chargers, sites: 10, sitePrefix: 'site_bench_', chargerPrefix: 'CP-' });
}

/**
 * Builds every rollup up to now, then leaves the table as autovacuum would after a build this size
 * (migration 0020 has it run after 1 % new rows): pages all-visible, so the day-end index is read
 * without the heap, and statistics fresh.
 */
export async function buildBenchRollups(db: Db): Promise<{ seconds: number; rows: number; sizeMiB: number }> {
  const started = performance.now();
  const rows = await refreshRollupsFully(db, new Date(), 2000, 24 * 31);
  const [size] = await db.query<{ mib: number }>(`SELECT (pg_total_relation_size('rollup_hours') / 1048576.0)::float8 AS mib`);
  const seconds = (performance.now() - started) / 1000;
  await db.query('VACUUM ANALYZE rollup_hours');
  await db.query('ANALYZE');
  return { seconds, rows, sizeMiB: size!.mib };
}
