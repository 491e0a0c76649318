// PostgreSQL's per-statement counters (pg_stat_statements) for a bench phase, when the server has
// them: shared_preload_libraries = 'pg_stat_statements' and the extension created in the admin
// database (docs/benchmarks.md, "50,000 chargers: two more plans that read the fleet to find a few rows"). Without them a bench reports
// nothing here and runs as before.
import { withClient } from './throwaway-database.js';

export interface StatementCost {
  calls: number;
  totalMs: number;
  meanMs: number;
  rows: number;
  /** Shared buffers hit and read: the work a statement does, apart from time spent waiting. */
  buffers: number;
  /** The normalised text, whitespace collapsed, cut to 160 characters. */
  query: string;
}

/** Resets the counters if the extension is there; false when it is not (nothing to report). */
export function statementsReset(adminUrl: string): Promise<boolean> {
  return withClient(adminUrl, async (c) => {
    const { rowCount } = await c.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'`);
    if (!rowCount) return false;
    try {
      await c.query('SELECT pg_stat_statements_reset()');
      return true;
    } catch {
      return false; // created, but the library is not loaded
    }
  });
}

/** The statements run in `database` since the reset, most total time first. */
export function topStatements(adminUrl: string, database: string, limit: number): Promise<StatementCost[]> {
  return withClient(adminUrl, async (c) => {
    const { rows } = await c.query<{ calls: string; total: number; mean: number; rows: string; buffers: string; query: string }>(
      `SELECT s.calls, s.total_exec_time AS total, s.mean_exec_time AS mean, s.rows,
              s.shared_blks_hit + s.shared_blks_read AS buffers, s.query
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = $1
        ORDER BY s.total_exec_time DESC
        LIMIT $2`,
      [database, limit],
    );
    return rows.map((r) => ({
      calls: Number(r.calls),
      totalMs: r.total,
      meanMs: r.mean,
      rows: Number(r.rows),
      buffers: Number(r.buffers),
      query: r.query.replace(/\s+/g, ' ').slice(0, 160),
    }));
  });
}
