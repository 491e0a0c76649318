/** The one database port: PostgreSQL through `pg`, or embedded PGlite in a worker thread. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
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
