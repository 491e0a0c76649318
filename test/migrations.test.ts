import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dbKind, freshPostgresUrl } from './support/database.js';
import { openDatabase } from '../src/store/open.js';
import { loadMigrations, migrate } from '../src/store/migrate.js';
import type { Db } from '../src/store/db.js';

/** A fresh, migrated database of the kind under test for one test, dropped afterwards. */
async function withDatabase(test: (db: Db) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dynamo-migrate-'));
  const pg = await freshPostgresUrl();
  const { db, release } = await openDatabase({ databaseUrl: pg?.url, dataDir: dir, poolSize: 2 });
  try {
    await migrate(db);
    await test(db);
  } finally {
    await release();
    await pg?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

describe(`migrations on an existing database (${dbKind})`, () => {
  it('0023: the one index of sessions by their end is valid and holds ended sessions only, also when migrated from 0022', () =>
    withDatabase(async (db) => {
      // Ingest looks up "this connector's open session" (stopped_at IS NULL) at every session start.
      // An index on stopped_at that held the open sessions could answer it by walking all of them,
      // and on unanalysed tables the planner picked it (docs/benchmarks.md, "An open session found
      // by walking all of them").
      const byEnd = () =>
        db.query<{ name: string; valid: boolean; predicate: string | null }>(
          `SELECT c.relname AS name, i.indisvalid AS valid, pg_get_expr(i.indpred, i.indrelid) AS predicate
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = 'sessions'::regclass AND a.attname = 'stopped_at'`,
        );
      const endedOnly = [{ name: 'sessions_ended', valid: true, predicate: '(stopped_at IS NOT NULL)' }];
      expect(await byEnd()).toEqual(endedOnly);
      // A database at 0022, with the index of 0004 that held every session.
      await db.query('DROP INDEX sessions_ended');
      await db.query('CREATE INDEX sessions_stopped ON sessions (stopped_at)');
      await db.query('DELETE FROM schema_migrations WHERE version >= 23');
      expect((await migrate(db)).applied.map((m) => m.version)).toContain(23);
      expect(await byEnd()).toEqual(endedOnly);
      // Its reader, the summary's sessions ended today, can still walk it by the end.
      const plan = await db.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        await tx.query('SET LOCAL enable_bitmapscan = off');
        const [row] = await tx.query<Record<string, unknown>>(
          `EXPLAIN (FORMAT JSON) SELECT session_id FROM sessions WHERE stopped_at >= date_trunc('day', now(), 'UTC')`,
        );
        return JSON.stringify(Object.values(row!)[0]);
      });
      expect(plan).toContain('"Index Name":"sessions_ended"');
    }));

  it('refuses two migrations with one version number before running either', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dynamo-migrations-'));
    try {
      await writeFile(join(dir, '0001_first.sql'), 'SELECT 1;');
      await writeFile(join(dir, '0001_first_renamed.sql'), 'SELECT 1;');
      await writeFile(join(dir, '0002_second.sql'), 'SELECT 2;');
      await expect(loadMigrations(pathToFileURL(`${dir}/`))).rejects.toThrow(/two migrations carry version 1 \(0001_first.sql, 0001_first_renamed.sql\)/);
      await rm(join(dir, '0001_first_renamed.sql'));
      expect((await loadMigrations(pathToFileURL(`${dir}/`))).map((m) => m.version)).toEqual([1, 2]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a key that had every scope gains the scopes added later; a narrower key does not', () =>
    withDatabase(async (db) => {
      await db.query(`INSERT INTO tenants (tenant_id, name) VALUES ('ten_M', 'M')`);
      // Every scope there was before the commands, sessions and message-log routes (migration 0016).
      const before = ['read:charge_points', 'write:charge_points', 'read:sites', 'write:sites', 'read:maintenance', 'write:maintenance',
        'write:webhooks', 'read:events', 'read:alerts', 'write:alerts'];
      const key = (id: string, scopes: string[]) =>
        db.query(`INSERT INTO api_keys (key_id, tenant_id, name, prefix, key_hash, scopes) VALUES ($1, 'ten_M', $1, $1, $1, $2)`, [id, scopes]);
      await key('key_full', before);
      await key('key_narrow', ['read:charge_points']);
      // The database as it was before 0016: run it again as an upgrade would.
      await db.query('DELETE FROM schema_migrations WHERE version >= 16');
      const report = await migrate(db);
      expect(report.applied.map((m) => m.version)).toContain(16);
      const scopes = Object.fromEntries(
        (await db.query<{ key_id: string; scopes: string[] }>('SELECT key_id, scopes FROM api_keys ORDER BY key_id')).map((r) => [r.key_id, r.scopes]),
      );
      expect(scopes.key_full).toEqual([...before, 'read:commands', 'write:commands', 'read:sessions', 'read:messages']);
      expect(scopes.key_narrow).toEqual(['read:charge_points']);
      // Applied once more (a second upgrade path), nothing is added twice.
      await db.query('DELETE FROM schema_migrations WHERE version >= 16');
      await migrate(db);
      expect((await db.query<{ scopes: string[] }>(`SELECT scopes FROM api_keys WHERE key_id = 'key_full'`))[0]!.scopes).toHaveLength(14);
    }));

  it('0018 carries each charger status from charger_state to chargers as it was, and computes the missing ones', () =>
    withDatabase(async (db) => {
      await db.query(`INSERT INTO tenants (tenant_id, name) VALUES ('ten_S', 'S')`);
      await db.query(`INSERT INTO sites (site_id, tenant_id, name) VALUES ('site_a', 'ten_S', 'A')`);
      await db.query(`INSERT INTO chargers (charge_point_id, tenant_id, site_id) VALUES ('CP-KEPT', 'ten_S', 'site_a'), ('CP-NEW', 'ten_S', 'site_a')`);
      // The schema as 0017 left it: the status in charger_state. 'Charging' is not what the rule
      // would compute for a charger with no connection, so it shows the value is carried, not recomputed.
      await db.query('ALTER TABLE chargers DROP COLUMN reported_status');
      await db.query('ALTER TABLE charger_state ADD COLUMN reported_status text');
      await db.query(`INSERT INTO charger_state (charge_point_id, reported_status) VALUES ('CP-KEPT', 'Charging')`);
      await db.query('DELETE FROM schema_migrations WHERE version >= 18');
      expect((await migrate(db)).applied.map((m) => m.version)).toContain(18);
      const statuses = await db.query<{ charge_point_id: string; reported_status: string }>(
        'SELECT charge_point_id, reported_status FROM chargers ORDER BY charge_point_id');
      expect(statuses).toEqual([
        { charge_point_id: 'CP-KEPT', reported_status: 'Charging' },
        { charge_point_id: 'CP-NEW', reported_status: 'Offline' },
      ]);
      const left = await db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'charger_state' AND column_name = 'reported_status'`);
      expect(left).toHaveLength(0);
      // Applied again (an upgrade path that replays it), it changes nothing.
      await db.query('DELETE FROM schema_migrations WHERE version >= 18');
      await migrate(db);
      expect(await db.query('SELECT charge_point_id, reported_status FROM chargers ORDER BY charge_point_id')).toEqual(statuses);
    }));
});
