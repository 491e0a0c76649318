import { throwawayDatabase } from '../../bench/throwaway-database.js';

/** PostgreSQL when TEST_DATABASE_URL (or DATABASE_URL) is set, else embedded PGlite. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
export const dbKind: 'postgres' | 'pglite' = TEST_PG_URL ? 'postgres' : 'pglite';

/**
 * A fresh, empty PostgreSQL database for one test file; undefined on PGlite
 * runs (each service then gets its own embedded database in a temp dir).
 */
export async function freshPostgresUrl(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  return TEST_PG_URL ? throwawayDatabase(TEST_PG_URL, 'dynamo_test') : undefined;
}
