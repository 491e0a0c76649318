import { access, constants, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export interface StorageConfig {
  databaseUrl?: string;
  dataDir: string;
  poolSize: number;
}

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    const probe = join(dir, `.write-probe-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (err) {
    throw new StartupError(`data directory ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set DYNAMO_DATA_DIR`);
  }
}

/** PostgreSQL when DATABASE_URL is set, else embedded PGlite persisted under the data directory. */
export async function openDatabase(cfg: StorageConfig): Promise<{ db: Db; release: () => Promise<void> }> {
  if (cfg.databaseUrl) {
    try {
      const db = await openPostgres({ url: cfg.databaseUrl, poolSize: cfg.poolSize });
      return { db, release: () => db.close() };
    } catch (err) {
      const where = new URL(cfg.databaseUrl);
      throw new StartupError(`cannot reach PostgreSQL at ${where.hostname}:${where.port || 5432}${where.pathname} (${(err as Error).message})`);
    }
  }
  await ensureWritableDir(cfg.dataDir);
  const unlock = await lockDataDir(cfg.dataDir);
  try {
    const db = await openPglite({ dataDir: join(cfg.dataDir, 'pgdata') });
    return { db, release: async () => { await db.close(); await unlock(); } };
  } catch (err) {
    await unlock();
    throw err;
  }
}

/**
 * PGlite is one process's database: a second server on the same directory would
 * corrupt it. The lock names the owner's pid; a lock left by a dead process is taken over.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, 'dynamo.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new StartupError(`data directory ${dir} is in use by another Dynamo process (pid ${pid})`);
      }
      await rm(file, { force: true });
    }
  }
  throw new StartupError(`cannot lock data directory ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
