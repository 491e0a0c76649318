// Shared by the benchmarks that run Dynamo as its own process (bench/ingest.ts, bench/flood.ts, …):
// starting and stopping that process and the load generator, the environment the server runs with, a
// fresh database for it, and reading what they cost (CPU from /proc, WAL positions).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { throwawayDatabase, withClient } from './throwaway-database.js';

/** The environment `dynamo serve` runs with in every benchmark (plus the database's). */
export const SERVE_ENV: Record<string, string> = {
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  DYNAMO_ADMIN_KEY: 'bench-admin-key-0123456789abcdef',
  DYNAMO_RATE_LIMIT: '1000000',
  DYNAMO_DB_POOL_SIZE: '12',
};

/**
 * What the bench's own environment changes in the servers it starts (they inherit it), written as
 * the start of its command line: BENCH_NODE_ARGS and DYNAMO_ settings the bench does not set itself;
 * names that look like secrets are left out.
 */
export function serverEnvOfRun(): string {
  return Object.entries(process.env)
    .filter(([k]) => k === 'BENCH_NODE_ARGS' || (k.startsWith('DYNAMO_') && !(k in SERVE_ENV) && !/KEY|SECRET|PASSWORD|TOKEN/.test(k)))
    .map(([k, v]) => `${k}="${v}" `)
    .join('');
}

/**
 * Runs `node <cmd…>` and resolves once it prints "listening on <url>". BENCH_NODE_ARGS adds node
 * options to the server only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS refuses).
 */
export function startProcess(cmd: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (out += d));
    // BENCH_SERVER_LOG=<file>: the server's own output (LOG_LEVEL warn: its warnings and errors) kept for reading after the run.
    const logTo = process.env.BENCH_SERVER_LOG;
    if (logTo) {
      const file = createWriteStream(logTo, { flags: 'a' });
      child.stdout!.pipe(file);
      child.stderr!.pipe(file);
    }
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

/** One line the load generator reports: a phase's name and what it measured in it. */
export type GeneratorPhase = { phase: string } & Record<string, any>;

/**
 * bench/load-generator.ts as its own process with `args`, and its phase reports as they come, each
 * echoed to stderr under `label`.
 */
export function startLoadGenerator(args: string[], label: string): { child: ChildProcess; phases: AsyncIterable<GeneratorPhase>; go: () => void } {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./load-generator.js', import.meta.url)), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  async function* phases(): AsyncGenerator<GeneratorPhase> {
    for await (const line of createInterface({ input: child.stdout! })) {
      process.stderr.write(`[${label}] ${line}\n`);
      yield JSON.parse(line);
    }
  }
  // With --sync true the generator waits for a line before each phase: go() starts the next one.
  return { child, phases: phases(), go: () => void child.stdin!.write('go\n') };
}

/** A WAL position (pg_current_wal_insert_lsn as text, `16/B374D848`) in bytes, so two positions subtract. */
export function lsnBytes(lsn: string): number {
  const [hi, lo] = lsn.split('/');
  return parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16);
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

/** CPU seconds (user + system) a process has used so far, from /proc. */
export async function cpuSeconds(pid: number): Promise<number> {
  const t = await cpuTimes(pid);
  return t.user + t.system;
}

/** User and system (kernel: socket writes and reads among them) CPU seconds of a process so far, from /proc. */
export async function cpuTimes(pid: number): Promise<{ user: number; system: number }> {
  const { user, system } = procStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  return { user, system };
}

/**
 * The fields of a /proc/<pid>/stat line the benches read: CPU seconds (clock ticks of 1/100 s, Linux's
 * USER_HZ), its own and its reaped children's. The command name may hold spaces: fields count from
 * after its closing parenthesis.
 */
function procStat(line: string): { pid: number; command: string; ppid: number; user: number; system: number; children: number } {
  const close = line.lastIndexOf(')');
  const f = line.slice(close + 2).split(' ');
  return {
    pid: Number(line.slice(0, line.indexOf(' '))),
    command: line.slice(line.indexOf('(') + 1, close),
    ppid: Number(f[1]),
    user: Number(f[11]) / 100,
    system: Number(f[12]) / 100,
    children: (Number(f[13]) + Number(f[14])) / 100,
  };
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving one database (their pids from
 * pg_stat_activity, their CPU from /proc: the server must run on this machine), by pid.
 */
export async function backendCpu(adminUrl: string, database: string): Promise<Map<number, number>> {
  const { rows } = await withClient(adminUrl, (c) =>
    c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]),
  );
  const out = new Map<number, number>();
  for (const { pid } of rows) out.set(pid, await cpuSeconds(pid).catch(() => 0));
  return out;
}

/**
 * CPU seconds used so far by every PostgreSQL process on this machine: backends, the WAL writer,
 * the checkpointer, autovacuum, and (through the postmaster's reaped-children times) those that have
 * exited, such as a pool connection closed while idle. Machine-wide: meaningful while only the bench
 * uses the server.
 */
export async function postgresCpuSeconds(): Promise<number> {
  const stats = await Promise.all(
    (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')),
  );
  const procs = stats.filter(Boolean).map(procStat).filter((p) => p.command === 'postgres');
  const pids = new Set(procs.map((p) => p.pid));
  // Exited children's CPU is added to their parent's when reaped: the postmaster's (whose parent is not PostgreSQL).
  return procs.reduce((sum, p) => sum + p.user + p.system + (pids.has(p.ppid) ? 0 : p.children), 0);
}

/** CPU the backends used between two snapshots (a backend that appeared in between counts from zero). */
export function backendCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let s = 0;
  for (const [pid, t] of after) s += t - (before.get(pid) ?? 0);
  return s;
}
