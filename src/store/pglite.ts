import { Worker } from 'node:worker_threads';
import type { Db, Queryable } from './db.js';

export interface PgliteOptions {
  /** Directory to persist into; omit for an in-memory database (tests). */
  dataDir?: string;
}

export class SqlError extends Error {
  override readonly name = 'SqlError';
  constructor(message: string, readonly code?: string, readonly constraint?: string, readonly detail?: string) {
    super(message);
  }
}

interface Reply {
  id?: number;
  rows?: unknown[];
  error?: { message: string; code?: string; constraint?: string; detail?: string };
  ready?: boolean;
}

/**
 * PGlite is a single connection, so statements from concurrent callers are
 * serialised here: a transaction holds the lock from BEGIN to COMMIT and other
 * work waits for it, as it would for a row lock on PostgreSQL.
 */
export async function openPglite(options: PgliteOptions): Promise<Db> {
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
    workerData: { dataDir: options.dataDir },
  });
  const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closed = false;

  await new Promise<void>((resolve, reject) => {
    const onFirst = (msg: Reply) => {
      worker.off('error', reject);
      if (msg.ready) resolve();
      else reject(new SqlError(`cannot open the embedded database: ${msg.error?.message}`));
    };
    worker.once('message', onFirst);
    worker.once('error', reject);
  });

  worker.on('message', (msg: Reply) => {
    if (msg.id === undefined) return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new SqlError(msg.error.message, msg.error.code, msg.error.constraint, msg.error.detail));
    else p.resolve(msg.rows ?? []);
  });
  worker.on('error', (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });

  const send = (op: string, sql?: string, params?: readonly unknown[]) =>
    new Promise<unknown[]>((resolve, reject) => {
      if (closed) return reject(new SqlError('the embedded database is closed'));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, sql, params });
    });

  let lock: Promise<void> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = lock.then(fn);
    lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };

  const raw: Queryable = { query: async (sql, params) => (await send('query', sql, params)) as never[] };

  return {
    kind: 'pglite',
    query: (sql, params) => exclusive(() => raw.query(sql, params)),
    exec: (sql) => exclusive(async () => void (await send('exec', sql))),
    transaction: (fn) =>
      exclusive(async () => {
        await send('exec', 'BEGIN');
        try {
          const result = await fn(raw);
          await send('exec', 'COMMIT');
          return result;
        } catch (err) {
          await send('exec', 'ROLLBACK').catch(() => {});
          throw err;
        }
      }),
    close: () =>
      exclusive(async () => {
        await send('close');
        closed = true;
        await worker.terminate();
      }),
  };
}
