import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, type ServerProcess } from './cli.js';
import { freshPostgresUrl } from './database.js';
import { ADMIN_KEY } from './service.js';
import { openDatabase } from '../../src/store/open.js';
import type { Db } from '../../src/store/db.js';

export interface KillableServer {
  /** What every process of it starts with: its own database and data directory, the admin key. */
  readonly env: Record<string, string>;
  /** Starts `dynamo serve` as a real process on this database (again after a kill or a stop). */
  start(): Promise<ServerProcess>;
  /** kill -9 of the process started last: none of its shutdown code runs. */
  kill(): Promise<void>;
  /** SIGTERM to the process started last (a clean stop); how it exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Opens the database directly (once no process uses it: an embedded one has a single owner). */
  withDatabase<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** Kills a process still running, drops the database and removes the data directory. */
  dispose(): Promise<void>;
}

/**
 * A `dynamo serve` that a test can kill -9 and start again on the same database (a fresh
 * PostgreSQL database on PostgreSQL runs, an embedded one in a temp dir otherwise). Runs the built
 * CLI: `npm run build` first.
 */
export async function killableServer(env: Record<string, string> = {}): Promise<KillableServer> {
  const dir = await mkdtemp(join(tmpdir(), 'dynamo-kill-'));
  const pg = await freshPostgresUrl();
  const fullEnv = { DYNAMO_DATA_DIR: dir, DYNAMO_ADMIN_KEY: ADMIN_KEY, PORT: '0', ...(pg ? { DATABASE_URL: pg.url } : {}), ...env };
  let current: ServerProcess | undefined;
  const running = () => {
    if (!current) throw new Error('killableServer: no process started');
    return current;
  };
  const alive = () => current !== undefined && current.child.exitCode === null && current.child.signalCode === null;
  return {
    env: fullEnv,
    async start() {
      current = await spawnServer(fullEnv);
      return current;
    },
    async kill() {
      const p = running();
      p.child.kill('SIGKILL');
      await p.exited;
    },
    async stop() {
      const p = running();
      p.child.kill('SIGTERM');
      return p.exited;
    },
    async withDatabase(fn) {
      const { db, release } = await openDatabase({ databaseUrl: pg?.url, dataDir: dir, poolSize: 2 });
      try {
        return await fn(db);
      } finally {
        await release();
      }
    },
    async dispose() {
      if (alive()) {
        current!.child.kill('SIGKILL');
        await current!.exited;
      }
      await pg?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
