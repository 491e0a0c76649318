import { access, chmod, constants, lstat, mkdir, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
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
  /** PostgreSQL: close connections idle this long (0: keep them). */
  idleTimeoutMs?: number;
}

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
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
      const db = await openPostgres({ url: cfg.databaseUrl, poolSize: cfg.poolSize, idleTimeoutMs: cfg.idleTimeoutMs });
      return { db, release: () => db.close() };
    } catch (err) {
      const where = new URL(cfg.databaseUrl);
      throw new StartupError(`cannot reach PostgreSQL at ${where.hostname}:${where.port || 5432}${where.pathname} (${(err as Error).message})`);
    }
  }
  // PGlite creates its files itself with mode 0666, so the umask is what decides: owner-only
  // for everything this process creates from here on, whatever umask it was started with.
  process.umask(process.umask(0o077) | 0o077);
  await ensureWritableDir(cfg.dataDir);
  const unlock = await lockDataDir(cfg.dataDir);
  try {
    // Files made before this rule (or by a copy with another umask) are tightened too.
    await restrictToOwner(cfg.dataDir);
    const db = await openPglite({ dataDir: join(cfg.dataDir, 'pgdata') });
    return { db, release: async () => { await db.close(); await unlock(); } };
  } catch (err) {
    await unlock();
    throw err;
  }
}

/** Directories 0700 and files 0600 under `dir` (itself included); symbolic links are left alone. */
export async function restrictToOwner(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await restrictToOwner(path);
    else if (entry.isFile() && ((await lstat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
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
