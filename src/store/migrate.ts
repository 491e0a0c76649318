import { readdir, readFile } from 'node:fs/promises';
import type { Db } from './db.js';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FUNCTIONS_DIR = new URL('./functions/', import.meta.url);
// Any fixed number: all nodes starting together take this lock so one migrates and the rest wait.
const MIGRATION_LOCK = 742_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
}

/** Two migration files with one version number: a broken install, refused before anything runs. */
export class DuplicateMigrationError extends Error {
  override readonly name = 'DuplicateMigrationError';
}

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  const migrations = await Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: await readFile(new URL(file, dir), 'utf8'),
    })),
  );
  const twice = migrations.find((m, i) => i > 0 && migrations[i - 1]!.version === m.version);
  if (twice) {
    throw new DuplicateMigrationError(
      `two migrations carry version ${twice.version} (${files.filter((f) => Number(f.slice(0, 4)) === twice.version).join(', ')}); reinstall the build`,
    );
  }
  return migrations;
}

export interface MigrationReport {
  applied: Migration[];
  version: number;
}

/** Applies every migration the database lacks, all in one transaction (DDL is transactional in PostgreSQL). */
export async function migrate(db: Db): Promise<MigrationReport> {
  const migrations = await loadMigrations();
  const latest = migrations.at(-1)?.version ?? 0;
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);

  const applied: Migration[] = [];
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const [row] = await tx.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = row?.version ?? 0;
    if (current > latest) {
      throw new SchemaTooNewError(
        `database schema is at version ${current} but this build knows only up to ${latest}; run a newer Dynamo build`,
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m);
    }
    // Functions are code: re-created every run, after the schema they use, in the same transaction,
    // unless the database holds a newer version of them (a newer build migrated it): then refuse.
    for (const file of (await readdir(FUNCTIONS_DIR)).filter((f) => f.endsWith('.sql')).sort()) {
      const sql = await readFile(new URL(file, FUNCTIONS_DIR), 'utf8');
      const version = functionsVersionOf(file, sql);
      const [installed] = await tx.query<{ version: number }>('SELECT version FROM schema_functions WHERE file = $1', [file]);
      if (installed && installed.version > version) {
        throw new SchemaTooNewError(
          `database functions ${file} are at version ${installed.version} but this build has version ${version}; run a newer Dynamo build`,
        );
      }
      for (const statement of splitStatements(sql)) await tx.query(statement);
      await tx.query(
        `INSERT INTO schema_functions (file, version) VALUES ($1, $2)
         ON CONFLICT (file) DO UPDATE SET version = excluded.version, installed_at = now()`,
        [file, version],
      );
    }
    // The fleet API reads each charger's status from chargers.reported_status, which ingest
    // keeps. Chargers it was never written for (a database from before migration 0008, a charger
    // never heard from) get it here, computed by the same rule; once written it is left to ingest.
    await tx.query(
      `UPDATE chargers SET reported_status = dynamo_charger_status(charge_point_id) WHERE reported_status IS NULL`,
    );
  });
  return { applied, version: Math.max(latest, 0) };
}

/** The `-- functions-version: N` line a functions file starts with. */
function functionsVersionOf(file: string, sql: string): number {
  const m = /^-- functions-version: (\d+)\s*$/m.exec(sql);
  if (!m) throw new Error(`src/store/functions/${file} lacks its "-- functions-version: N" line`);
  return Number(m[1]);
}

/**
 * Splits a migration into statements: a statement ends with ';' at the end of a
 * line, except inside a dollar-quoted function body ($$ … $$).
 */
function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  let inBody = false;
  for (const line of sql.split('\n')) {
    if (!inBody && /^\s*--/.test(line)) continue;
    current.push(line);
    if ((line.match(/\$\$/g) ?? []).length % 2 === 1) inBody = !inBody;
    if (!inBody && /;\s*$/.test(line)) {
      statements.push(current.join('\n').trim().replace(/;$/, ''));
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest) statements.push(rest);
  return statements.filter((s) => s.length > 0);
}
