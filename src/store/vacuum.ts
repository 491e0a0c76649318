import type { Queryable } from './db.js';

/**
 * Vacuum and analyze by hand where nothing else does: PGlite is one standalone backend with no
 * autovacuum launcher (docs/operations.md). Which tables are due is decided as PostgreSQL's
 * autovacuum decides it ("The Autovacuum Daemon" in the PostgreSQL manual), from the same
 * statistics and the same defaults, honouring a table's own autovacuum_* thresholds and scale
 * factors (rollup_hours sets one, migration 0020):
 *   vacuum   when dead rows          > 50   + 0.2 × rows   (updated or deleted versions to reclaim)
 *         or rows inserted since     > 1000 + 0.2 × rows   (so the visibility map lets index-only
 *            the last vacuum                                scans skip the heap)
 *   analyze  when rows changed since  > 50   + 0.1 × rows   (the planner's statistics; the fleet
 *            the last analyze                               queries choose their read path by them)
 * `rows` is pg_class.reltuples (0 before the first vacuum or analyze). autovacuum_enabled is not
 * read: with no autovacuum, these are the only vacuums the table gets.
 */
const DUE_SQL = `
SELECT s.relname AS "table", x.vacuum, x.analyze
  FROM pg_stat_user_tables s
  JOIN pg_class c ON c.oid = s.relid
 CROSS JOIN LATERAL (SELECT greatest(c.reltuples, 0) AS n) t
 CROSS JOIN LATERAL (
   SELECT coalesce(max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_vacuum_threshold'), '50')::float8 AS vt,
          coalesce(max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_vacuum_scale_factor'), '0.2')::float8 AS vs,
          coalesce(max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_vacuum_insert_threshold'), '1000')::float8 AS it,
          coalesce(max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_vacuum_insert_scale_factor'), '0.2')::float8 AS "is",
          coalesce(max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_analyze_threshold'), '50')::float8 AS at,
          coalesce(max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_analyze_scale_factor'), '0.1')::float8 AS "as"
     FROM pg_options_to_table(c.reloptions) o) f
 CROSS JOIN LATERAL (
   SELECT s.n_dead_tup > f.vt + f.vs * t.n OR s.n_ins_since_vacuum > f.it + f."is" * t.n AS vacuum,
          s.n_mod_since_analyze > f.at + f."as" * t.n AS analyze) x
 WHERE s.schemaname = current_schema() AND c.relkind = 'r' AND (x.vacuum OR x.analyze)
 ORDER BY s.n_dead_tup + s.n_ins_since_vacuum DESC, s.relname`;

export interface DueTable {
  table: string;
  /** Dead rows or inserts past the threshold: VACUUM (with ANALYZE when `analyze`). */
  vacuum: boolean;
  /** Changes past the analyze threshold. */
  analyze: boolean;
}

/** The tables of the current schema due for a vacuum or an analyze, the most changed first. */
export function dueTables(db: Queryable): Promise<DueTable[]> {
  return db.query<DueTable>(DUE_SQL);
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Vacuums and/or analyzes one table as `due` says. Not inside a transaction (VACUUM cannot be). */
export async function vacuumTable(db: Queryable, due: DueTable): Promise<void> {
  if (due.vacuum) await db.query(`VACUUM ${due.analyze ? '(ANALYZE) ' : ''}${quoted(due.table)}`);
  else if (due.analyze) await db.query(`ANALYZE ${quoted(due.table)}`);
}
