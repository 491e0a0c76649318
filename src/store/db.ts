import { setTimeout as delay } from 'node:timers/promises';

/** The one database port: PostgreSQL through `pg`, or embedded PGlite in a worker thread. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<R[]>;
}

export interface QueryOptions {
  /**
   * For a statement run many times a second (ingest's): PostgreSQL parses and plans it once per
   * connection, as a prepared statement of this name, instead of at every call (20–28 µs of the
   * database's CPU a one-message transaction; docs/benchmarks.md "The event feed and its wake-ups
   * without listeners", "Prepared once"). Only for statements whose
   * best plan does not depend on their parameters' values. PGlite runs the text as usual.
   */
  prepareAs?: string;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
  /**
   * Calls onNotify for each NOTIFY on the channel, from any process (PostgreSQL only: an embedded
   * database has one process, which wakes its readers itself). Best effort: a notification lost
   * while the listening connection reconnects is only a delay for callers that also poll.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
}

export interface Page {
  limit: number;
  offset: number;
}

/** SQLSTATEs for which PostgreSQL rolled a transaction back through no fault of its own statements (40001 for callers at a higher isolation level). */
const TRANSIENT_CODES = new Set(['40P01', '40001']);

/**
 * Runs fn in one transaction, again from the start when PostgreSQL picks it as a deadlock victim or
 * fails it for serialization (up to `attempts` runs). For writes that lock rows in another order
 * than ingest does (a cascade from a parent), where a retry is the cure rather than a failure.
 */
export async function transactionRetried<T>(db: Db, fn: (tx: Queryable) => Promise<T>, attempts = 3): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await db.transaction(fn);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (run >= attempts || typeof code !== 'string' || !TRANSIENT_CODES.has(code)) throw err;
      // A moment's jitter, so the same two transactions are unlikely to meet again in step.
      await delay(5 + Math.random() * 45);
    }
  }
}
