import pg from 'pg';
import type { Db, Queryable, QueryOptions } from './db.js';

const INT8_OID = 20;

export interface PostgresOptions {
  url: string;
  poolSize?: number;
  /** Caps any single statement, so a runaway dashboard query cannot hold a connection forever. */
  statementTimeoutMs?: number;
  /** An idle connection is closed after this long; 0 (the default) keeps every connection the pool opened. */
  idleTimeoutMs?: number;
}

// Connections are kept while idle (idleTimeoutMillis below): TCP keepalive after 30 s idle finds a
// dead peer, and its probes keep a NAT or firewall between here and the database from forgetting
// the connection. The pool's connections and the LISTEN connection alike.
const KEEPALIVE = { keepAlive: true, keepAliveInitialDelayMillis: 30_000 } as const;

/** Same value types as PGlite: bigint as number (our ids stay far below 2^53), timestamptz as Date. */
function typeParser(oid: number, format?: string): (value: string) => unknown {
  if (oid === INT8_OID) return (v) => Number(v);
  return pg.types.getTypeParser(oid, format as 'text');
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    // A new backend loads its catalogs and compiles and plans the ingest functions before its first
    // commit, so a pool that shrank in a lull answers the next burst late: after 20 s idle, the
    // half-rate p99 at 2,000 chargers was 600–690 ms with pg's 10 s idle timeout against 89–101 ms
    // with connections kept, alternating in one session (docs/benchmarks.md, "A pool that shrinks in
    // a lull"). Kept, each idle backend holds ~10 MB in PostgreSQL, the same as under load.
    idleTimeoutMillis: options.idleTimeoutMs ?? 0,
    ...KEEPALIVE,
    statement_timeout: options.statementTimeoutMs,
    // JIT compiles expensive-looking plans for about a second; dashboard queries finish far sooner
    // without it. Parallel workers cost ~3 ms to start (even for a branch a one-time filter skips)
    // and compete with ingest for the same cores: the fleet queries measured faster without them
    // (uptime of 10,000 chargers 230 → 211 ms, of one charger 7.4 → 3.2 ms; docs/operations.md).
    options: '-c jit=off -c max_parallel_workers_per_gather=0',
    types: { getTypeParser: typeParser } as pg.CustomTypesConfig,
  });
  // An idle client that loses its server emits here; without a listener it would crash the process.
  pool.on('error', () => {});
  const probe = await pool.connect();
  probe.release();

  const run = async <R>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[], options?: QueryOptions) =>
    (options?.prepareAs
      ? await client.query({ name: options.prepareAs, text: sql, values: params as unknown[] })
      : await client.query(sql, params as unknown[])
    ).rows as R[];

  return {
    kind: 'postgres',
    query: (sql, params, options) => run(pool, sql, params, options),
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      const tx: Queryable = { query: (sql, params, options) => run(client, sql, params, options) };
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
    async listen(channel, onNotify) {
      // A dedicated connection (a pooled one would be handed to other queries); reconnects after a loss.
      let client: pg.Client | undefined;
      let stopped = false;
      let retry: NodeJS.Timeout | undefined;
      const reconnectSoon = () => {
        if (stopped || retry) return;
        retry = setTimeout(() => {
          retry = undefined;
          void connect().catch(() => reconnectSoon());
        }, 1000);
        retry.unref();
      };
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: options.url, ...KEEPALIVE });
        c.on('error', () => {});
        c.on('notification', (n) => n.channel === channel && onNotify());
        c.on('end', () => {
          if (client === c) client = undefined;
          reconnectSoon();
        });
        await c.connect();
        await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        client = c;
        // Whatever was notified while disconnected is read now.
        onNotify();
      };
      await connect();
      return async () => {
        stopped = true;
        clearTimeout(retry);
        await client?.end().catch(() => {});
      };
    },
  };
}
