// Shared by the benchmarks that run Dynamo as its own process (bench/ingest.ts, bench/flood.ts):
// starting and stopping that process, the environment it runs with, and a fresh database for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { throwawayDatabase } from './throwaway-database.js';

/** The environment `dynamo serve` runs with in every benchmark (plus the database's). */
export const SERVE_ENV: Record<string, string> = {
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  DYNAMO_ADMIN_KEY: 'bench-admin-key-0123456789abcdef',
  DYNAMO_RATE_LIMIT: '1000000',
  DYNAMO_DB_POOL_SIZE: '12',
};

/** Runs `node <cmd…>` and resolves once it prints "listening on <url>". */
export function startProcess(cmd: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cmd, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

/** SIGTERM, and wait for the exit. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export const rssMiB = async (pid: number) => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
};

/**
 * A fresh database for one target: PGlite in `dataDir`, or a throwaway PostgreSQL database next to
 * `pgUrl`. `env` is what `dynamo serve` needs to use it; `drop` removes the PostgreSQL one.
 */
export async function benchDatabase(
  target: 'pglite' | 'postgres',
  dataDir: string,
  pgUrl: string,
): Promise<{ databaseUrl?: string; env: Record<string, string>; drop: () => Promise<void> }> {
  const pgDb = target === 'postgres' ? await throwawayDatabase(pgUrl, 'dynamo_bench') : undefined;
  const databaseUrl = pgDb?.url;
  return {
    databaseUrl,
    env: { DYNAMO_DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    drop: async () => pgDb?.drop(),
  };
}
