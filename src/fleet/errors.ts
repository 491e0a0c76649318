import type { Queryable } from '../store/db.js';
import { SCOPE_CTE, pageTotal, scopeParams, type Scope } from './scope.js';

export interface ErrorEvent {
  event_id: string;
  charge_point_id: string;
  site_id: string;
  connector_id: number;
  error_code: string;
  info: string | null;
  vendor_error_code: string | null;
  status: string | null;
  timestamp: Date;
  resolved_at: Date | null;
}

export interface ErrorFilter {
  from?: Date;
  to?: Date;
  errorCode?: string;
  resolved?: boolean;
}

// $4 from, $5 to, $6 error code, $7 resolved.
const MATCHES = `
  FROM error_events e JOIN scope s USING (charge_point_id)
 WHERE ($4::timestamptz IS NULL OR e.occurred_at >= $4)
   AND ($5::timestamptz IS NULL OR e.occurred_at < $5)
   AND ($6::text IS NULL OR e.error_code = $6)
   AND ($7::boolean IS NULL OR (e.resolved_at IS NOT NULL) = $7)`;

/** Error events, most recent first; $8 limit, $9 offset. */
const SQL = `
WITH ${SCOPE_CTE}
SELECT e.event_id, e.charge_point_id, s.site_id, e.connector_id, e.error_code, e.info, e.vendor_error_code, e.status,
       e.occurred_at AS timestamp, e.resolved_at
${MATCHES}
 ORDER BY e.occurred_at DESC, e.event_id DESC
 LIMIT $8 OFFSET $9`;

const COUNT_SQL = `WITH ${SCOPE_CTE} SELECT count(*)::int AS total ${MATCHES}`;

export async function errorEvents(
  db: Queryable,
  scope: Scope,
  f: ErrorFilter,
  page: { limit: number; offset: number },
): Promise<{ errors: ErrorEvent[]; total: number }> {
  const params = [...scopeParams(scope), f.from ?? null, f.to ?? null, f.errorCode ?? null, f.resolved ?? null];
  const errors = await db.query<ErrorEvent>(SQL, [...params, page.limit, page.offset]);
  const total = await pageTotal(errors.length, page, async () => (await db.query<{ total: number }>(COUNT_SQL, params))[0]?.total ?? 0);
  return { errors, total };
}
