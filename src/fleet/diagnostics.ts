import type { Queryable } from '../store/db.js';
import { fleetUptime } from './uptime.js';
import { fleetUtilisation } from './utilisation.js';

const DAY_MS = 86_400_000;

export interface Diagnostics {
  charge_point_id: string;
  site_id: string;
  vendor: string | null;
  model: string | null;
  firmware_version: string | null;
  uptime_30d_percent: number | null;
  utilisation_30d_percent: number | null;
  error_count_30d: number;
  open_error_count: number;
  last_error: { error_code: string; timestamp: Date } | null;
  last_heartbeat: Date | null;
  last_seen: Date | null;
  ocpp_version: string | null;
  connectors: { connector_id: number; status: string; total_sessions: number; total_energy_kwh: number }[];
}

/** Per connector: status and all-time sessions and energy (completed and in progress). */
const CHARGER_SQL = `
SELECT c.charge_point_id, c.site_id,
       coalesce(st.vendor, c.vendor) AS vendor, coalesce(st.model, c.model) AS model,
       coalesce(st.firmware_version, c.firmware_version) AS firmware_version,
       st.ocpp_version, st.last_heartbeat, st.last_seen,
       (SELECT count(*)::int FROM error_events e WHERE e.charge_point_id = c.charge_point_id AND e.occurred_at >= $3) AS error_count_30d,
       (SELECT count(*)::int FROM error_events e WHERE e.charge_point_id = c.charge_point_id AND e.resolved_at IS NULL) AS open_error_count,
       (SELECT json_build_object('error_code', e.error_code, 'timestamp', e.occurred_at) FROM error_events e
         WHERE e.charge_point_id = c.charge_point_id ORDER BY e.occurred_at DESC LIMIT 1) AS last_error,
       coalesce((SELECT json_agg(json_build_object(
                   'connector_id', k.connector_id, 'status', k.status,
                   'total_sessions', (SELECT count(*) FROM sessions z WHERE z.charge_point_id = k.charge_point_id AND z.connector_id = k.connector_id),
                   'total_energy_wh', (SELECT coalesce(sum(dynamo_session_energy_wh(z.meter_start_wh, z.meter_stop_wh, z.last_meter_wh, z.energy_excluded)), 0)
                                         FROM sessions z WHERE z.charge_point_id = k.charge_point_id AND z.connector_id = k.connector_id))
                   ORDER BY k.connector_id)
                   FROM connectors k WHERE k.charge_point_id = c.charge_point_id AND k.connector_id > 0), '[]') AS connectors
  FROM chargers c LEFT JOIN charger_state st USING (charge_point_id)
 WHERE c.tenant_id = $1 AND c.charge_point_id = $2`;

export async function diagnostics(db: Queryable, tenantId: string, chargePointId: string, now = new Date()): Promise<Diagnostics | undefined> {
  const from = new Date(now.getTime() - 30 * DAY_MS);
  const [row] = await db.query<Omit<Diagnostics, 'uptime_30d_percent' | 'utilisation_30d_percent' | 'connectors' | 'last_error'> & {
    connectors: { connector_id: number; status: string; total_sessions: number; total_energy_wh: number }[];
    last_error: { error_code: string; timestamp: string } | null;
  }>(CHARGER_SQL, [tenantId, chargePointId, from]);
  if (!row) return undefined;
  const scope = { tenantId, chargePointId };
  const [uptime] = await fleetUptime(db, scope, from, now);
  const [util] = await fleetUtilisation(db, scope, from, now, null);
  return {
    ...row,
    uptime_30d_percent: uptime?.uptime_percent ?? null,
    utilisation_30d_percent: util?.buckets[0]?.utilisation_percent ?? null,
    last_error: row.last_error ? { error_code: row.last_error.error_code, timestamp: new Date(row.last_error.timestamp) } : null,
    connectors: row.connectors.map((k) => ({
      connector_id: k.connector_id,
      status: k.status,
      total_sessions: Number(k.total_sessions),
      total_energy_kwh: Math.round(k.total_energy_wh) / 1000,
    })),
  };
}
