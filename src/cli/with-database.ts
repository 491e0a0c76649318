import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import { openDatabase } from '../store/open.js';

/** Opens the configured database for one CLI command and always closes it. */
export async function withDatabase<T>(config: Config, fn: (db: Db) => Promise<T>): Promise<T> {
  const { db, release } = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    return await fn(db);
  } finally {
    await release();
  }
}
