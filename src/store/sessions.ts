import type { Page, Queryable } from './db.js';
import { listPage } from './list-page.js';

/** A charging session as the Sessions API shows it (docs/api.md). */
export interface SessionRow {
  session_id: string;
  charge_point_id: string;
  site_id: string;
  connector_id: number;
  transaction_id: string;
  id_tag: string | null;
  started_at: Date;
  stopped_at: Date | null;
  energy_kwh: number | null;
  stop_reason: string | null;
  status: 'active' | 'completed';
}

export interface SessionFilter {
  chargePointId?: string;
  siteId?: string;
  status?: 'active' | 'completed';
  from?: Date;
  to?: Date;
}

/** "ses_42" ↔ 42: the API's id of the sessions row. */
export const sessionKey = (sessionId: string): string | undefined => /^ses_([0-9]{1,18})$/.exec(sessionId)?.[1];

// Energy as every fleet figure counts it: dynamo_session_energy_wh (src/store/functions/energy.sql).
const COLUMNS = `'ses_' || z.session_id AS session_id, z.charge_point_id, c.site_id, z.connector_id, z.transaction_id, z.id_tag,
         z.started_at, z.stopped_at, z.stop_reason,
         round((dynamo_session_energy_wh(z.meter_start_wh, z.meter_stop_wh, z.last_meter_wh, z.energy_excluded) / 1000)::numeric, 3)::double precision AS energy_kwh,
         CASE WHEN z.stopped_at IS NULL THEN 'active' ELSE 'completed' END AS status`;
const FROM = 'sessions z JOIN chargers c USING (charge_point_id)';
const SELECT = `
  SELECT ${COLUMNS}
    FROM ${FROM}`;

// A session is in [from, to) when it overlaps it: started before `to`, not stopped before `from`.
const WHERE = `c.tenant_id = $1 AND ($2::text IS NULL OR z.charge_point_id = $2) AND ($3::text IS NULL OR c.site_id = $3)
  AND ($4::text IS NULL OR ($4 = 'active') = (z.stopped_at IS NULL))
  AND ($5::timestamptz IS NULL OR coalesce(z.stopped_at, 'infinity') >= $5) AND ($6::timestamptz IS NULL OR z.started_at < $6)`;

/** Active sessions first, then the most recently started. */
export async function listSessions(db: Queryable, tenantId: string, f: SessionFilter, page: Page): Promise<{ rows: SessionRow[]; total: number }> {
  const params = [tenantId, f.chargePointId ?? null, f.siteId ?? null, f.status ?? null, f.from ?? null, f.to ?? null];
  return listPage<SessionRow>(db, { columns: COLUMNS, from: FROM, where: WHERE, orderBy: '(z.stopped_at IS NULL) DESC, z.started_at DESC, z.session_id DESC' }, params, page);
}

export async function getSession(db: Queryable, tenantId: string, sessionId: string): Promise<SessionRow | undefined> {
  const key = sessionKey(sessionId);
  if (!key) return undefined;
  const [row] = await db.query<SessionRow>(`${SELECT} WHERE c.tenant_id = $1 AND z.session_id = $2::bigint`, [tenantId, key]);
  return row;
}
