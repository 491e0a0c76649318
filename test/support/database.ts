import pg from 'pg';
import { randomBytes } from 'node:crypto';

/** PostgreSQL when TEST_DATABASE_URL (or DATABASE_URL) is set, else embedded PGlite. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
export const dbKind: 'postgres' | 'pglite' = TEST_PG_URL ? 'postgres' : 'pglite';

/**
 * A fresh, empty PostgreSQL database for one test file; undefined on PGlite
 * runs (each service then gets its own embedded database in a temp dir).
 */
export async function freshPostgresUrl(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  if (!TEST_PG_URL) return undefined;
  const name = `dynamo_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
