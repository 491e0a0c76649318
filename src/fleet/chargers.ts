import type { Queryable } from '../store/db.js';
import { SCOPE_CTE, pageTotal, scopeParams, type Scope } from './scope.js';
import { CHARGER_STATUS_CTE } from './charger-status.js';

export type StatusFilter = 'online' | 'offline' | 'charging' | 'available' | 'faulted';

export interface FleetCharger {
  charge_point_id: string;
  site_id: string;
  vendor: string | null;
  model: string | null;
  firmware_version: string | null;
  status: string;
  ocpp_version: string | null;
  last_seen: Date | null;
  last_heartbeat: Date | null;
  connectors: { connector_id: number; type: string | null; status: string; error_code: string | null }[];
}

/**
 * Chargers with their one status (charger-status.ts) and their connectors (connector 0,
 * the charger itself, is not listed). $4 status filter, $5 limit, $6 offset.
 */
const FILTERED = `${SCOPE_CTE},
${CHARGER_STATUS_CTE},
filtered AS (
  SELECT * FROM charger_status
   WHERE $4::text IS NULL
      OR ($4 = 'online' AND status <> 'Offline')
      OR lower(status) = $4)`;

const SQL = `
WITH ${FILTERED},
page AS (SELECT * FROM filtered ORDER BY charge_point_id LIMIT $5 OFFSET $6)
SELECT p.charge_point_id, p.site_id, p.status,
       coalesce(st.vendor, c.vendor) AS vendor, coalesce(st.model, c.model) AS model,
       coalesce(st.firmware_version, c.firmware_version) AS firmware_version,
       st.ocpp_version, st.last_seen, st.last_heartbeat,
       coalesce((SELECT json_agg(json_build_object('connector_id', x.connector_id, 'type', x.connector_type,
                                                   'status', x.status, 'error_code', x.error_code) ORDER BY x.connector_id)
                   FROM connectors x WHERE x.charge_point_id = p.charge_point_id AND x.connector_id > 0), '[]') AS connectors
  FROM page p
  JOIN chargers c USING (charge_point_id)
  LEFT JOIN charger_state st USING (charge_point_id)
 ORDER BY p.charge_point_id`;

const COUNT_SQL = `WITH ${FILTERED} SELECT count(*)::int AS total FROM filtered`;

export async function fleetChargers(
  db: Queryable,
  scope: Scope,
  status: StatusFilter | undefined,
  page: { limit: number; offset: number },
): Promise<{ chargers: FleetCharger[]; total: number }> {
  const params = [...scopeParams(scope), status ?? null];
  const chargers = await db.query<FleetCharger>(SQL, [...params, page.limit, page.offset]);
  const total = await pageTotal(chargers.length, page, async () => (await db.query<{ total: number }>(COUNT_SQL, params))[0]?.total ?? 0);
  return { chargers, total };
}
