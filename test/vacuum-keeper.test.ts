import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { dbKind, freshPostgresUrl } from './support/database.js';
import { eventually } from './support/history.js';
import { startTestService, type TestService } from './support/service.js';
import { openDatabase } from '../src/store/open.js';
import { migrate } from '../src/store/migrate.js';
import { dueTables } from '../src/store/vacuum.js';
import { VacuumKeeper } from '../src/store/vacuum-keeper.js';
import { createLogger } from '../src/logger.js';
import type { Db, Queryable } from '../src/store/db.js';

type TableStats = { relname: string; n_dead_tup: number; n_mod_since_analyze: number; last_vacuum: Date | null; last_analyze: Date | null };

const stats = async (db: Queryable, table: string) =>
  (await db.query<TableStats>(
    `SELECT relname, n_dead_tup::int AS n_dead_tup, n_mod_since_analyze::int AS n_mod_since_analyze, last_vacuum, last_analyze
       FROM pg_stat_user_tables WHERE relname = $1`,
    [table],
  ))[0]!;

/**
 * Runs a change and waits until the statistics count it: a backend reports its counts a little
 * after its statements (PostgreSQL: within ~1–10 s), and a count that arrived only after the next
 * VACUUM or ANALYZE would be counted as a change after it.
 */
async function counted(db: Db, table: string, sql: string, rows: number): Promise<void> {
  const before = (await stats(db, table))?.n_mod_since_analyze ?? 0;
  await db.transaction(async (tx) => {
    await tx.query(sql);
    await tx.query('SELECT pg_stat_force_next_flush()');
  });
  await eventually(() => stats(db, table), (s) => s.n_mod_since_analyze >= before + rows, 20_000);
}

/**
 * A table of `rows` rows that PostgreSQL's own autovacuum leaves alone (so on PostgreSQL only the
 * keeper under test can vacuum it), vacuumed and analysed once when `settled`.
 */
async function aProbeTable(db: Db, name: string, rows: number, settled: boolean): Promise<void> {
  await db.query(`CREATE TABLE ${name} (id integer PRIMARY KEY, v integer NOT NULL) WITH (autovacuum_enabled = false)`);
  await counted(db, name, `INSERT INTO ${name} SELECT g, 0 FROM generate_series(1, ${rows}) g`, rows);
  if (settled) await db.query(`VACUUM (ANALYZE) ${name}`);
}

describe(`the embedded database's vacuum keeper (${dbKind})`, () => {
  let db: Db;
  let release: () => Promise<void>;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dynamo-vacuum-'));
    const pg = await freshPostgresUrl();
    ({ db, release } = await openDatabase({ databaseUrl: pg?.url, dataDir: dir, poolSize: 2 }));
    await migrate(db);
    cleanup = async () => {
      await release();
      await pg?.drop();
      await rm(dir, { recursive: true, force: true });
    };
  });
  afterAll(() => cleanup?.());

  it("vacuums and analyzes what autovacuum would (dead rows, changes), and nothing else", async () => {
    // 5,000 rows all updated: 5,000 dead > 50 + 0.2 × 5,000.
    await aProbeTable(db, 'probe_updated', 5000, true);
    // 10 of 5,000 updated: below every threshold.
    await aProbeTable(db, 'probe_quiet', 5000, true);
    // 200 rows into a table never analysed: 200 changes > 50 (analyze), 200 inserts < 1,000 (no vacuum).
    await aProbeTable(db, 'probe_fresh', 200, false);
    await counted(db, 'probe_updated', 'UPDATE probe_updated SET v = v + 1', 5000);
    await counted(db, 'probe_quiet', 'UPDATE probe_quiet SET v = v + 1 WHERE id <= 10', 10);
    const [updatedBefore, quietBefore] = [await stats(db, 'probe_updated'), await stats(db, 'probe_quiet')];
    expect(quietBefore.last_vacuum).not.toBeNull();

    // The statistics reach the shared counters a little after the statements (PostgreSQL: up to ~10 s).
    const due = await eventually(
      async () => new Map((await dueTables(db)).map((d) => [d.table, d])),
      (m) => m.has('probe_updated') && m.has('probe_fresh'),
      20_000,
    );
    expect(due.get('probe_updated')).toEqual({ table: 'probe_updated', vacuum: true, analyze: true });
    expect(due.get('probe_fresh')).toEqual({ table: 'probe_fresh', vacuum: false, analyze: true });
    expect(due.has('probe_quiet')).toBe(false);

    const keeper = new VacuumKeeper(db, createLogger('silent'), new Registry(), 3_600_000);
    await keeper.runOnce();

    const updated = await eventually(() => stats(db, 'probe_updated'), (s) => s.last_vacuum! > updatedBefore.last_vacuum!, 20_000);
    expect(updated.n_dead_tup).toBe(0);
    expect(updated.last_analyze! > updatedBefore.last_analyze!).toBe(true);
    const fresh = await eventually(() => stats(db, 'probe_fresh'), (s) => s.last_analyze !== null, 20_000);
    expect(fresh.last_vacuum).toBeNull();
    expect((await stats(db, 'probe_quiet')).last_vacuum).toEqual(quietBefore.last_vacuum);
    // Nothing of the probes is due any more.
    const after = (await dueTables(db)).map((d) => d.table);
    expect(after.filter((t) => t.startsWith('probe_'))).toEqual([]);
  }, 60_000);

  it("follows a table's own autovacuum settings (rollup_hours: vacuumed after 1 % new rows, migration 0020)", async () => {
    await aProbeTable(db, 'probe_tuned', 10_000, true);
    // 200 inserts: below 1,000 + 0.2 × 10,000 by default, above 1,000 × 0 + 0.01 × 10,000 with the table's settings.
    await db.query('ALTER TABLE probe_tuned SET (autovacuum_vacuum_insert_threshold = 0, autovacuum_vacuum_insert_scale_factor = 0.01)');
    await counted(db, 'probe_tuned', 'INSERT INTO probe_tuned SELECT g, 0 FROM generate_series(10001, 10200) g', 200);
    const due = await eventually(
      async () => (await dueTables(db)).find((d) => d.table === 'probe_tuned'),
      (d) => d !== undefined,
      20_000,
    );
    expect(due).toEqual({ table: 'probe_tuned', vacuum: true, analyze: false });
  }, 60_000);
});

/** The service runs the keeper on the embedded database only: PostgreSQL has its own autovacuum. */
describe.runIf(dbKind === 'pglite')('the running service vacuums its embedded database (pglite)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ DYNAMO_VACUUM_INTERVAL: '1' });
  });
  afterAll(() => svc?.close());

  it('reclaims dead rows on its own every DYNAMO_VACUUM_INTERVAL seconds', async () => {
    const db = svc.service.db;
    await aProbeTable(db, 'probe_service', 2000, true);
    const before = await stats(db, 'probe_service');
    await counted(db, 'probe_service', 'UPDATE probe_service SET v = v + 1', 2000);
    const s = await eventually(() => stats(db, 'probe_service'), (x) => x.last_vacuum! > before.last_vacuum!, 20_000);
    expect(s.n_dead_tup).toBe(0);
  }, 60_000);
});
