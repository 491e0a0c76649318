import type { Queryable } from '../store/db.js';
import { oneDecimal, scopeParams, scopeWhere, type Scope } from './scope.js';
import { chargerStatusOf } from './charger-status.js';

export interface FleetSummary {
  total_chargers: number;
  online: number;
  offline: number;
  charging: number;
  available: number;
  faulted: number;
  unavailable: number;
  active_sessions: number;
  total_energy_today_kwh: number;
}

/**
 * One statement, so one consistent snapshot. Energy today: for every session
 * that was in progress at some point since 00:00 UTC, the last register reading
 * minus the reading at midnight (the last sample at or before it, else the
 * meter start); in-progress sessions included; sessions whose meter start was
 * not plausible (sessions.energy_excluded) are left out.
 */
const SQL = `
WITH today AS (SELECT date_trunc('day', now(), 'UTC') AS t0),
relevant AS (
  SELECT z.* FROM sessions z JOIN chargers c ON c.charge_point_id = z.charge_point_id
   WHERE z.stopped_at IS NULL AND ${scopeWhere('c')}
  UNION ALL
  SELECT z.* FROM sessions z JOIN chargers c ON c.charge_point_id = z.charge_point_id, today
   WHERE z.stopped_at >= today.t0 AND ${scopeWhere('c')}),
energy AS (
  SELECT sum(greatest(coalesce(z.meter_stop_wh, z.last_meter_wh) -
           CASE WHEN z.started_at >= today.t0 THEN z.meter_start_wh
                ELSE coalesce((SELECT m.value FROM meter_samples m
                                WHERE m.session_id = z.session_id AND m.measurand = 'Energy.Active.Import.Register'
                                  AND m.phase IS NULL AND m.sampled_at <= today.t0
                                ORDER BY m.sampled_at DESC LIMIT 1), z.meter_start_wh) END, 0)) AS wh
    FROM relevant z, today
   WHERE z.energy_excluded IS NULL),
-- Read from chargers alone (not a scope CTE, which three references would materialise first; the
-- status is kept there, so no join).
charger_status AS (
  SELECT ${chargerStatusOf('c')} AS status FROM chargers c WHERE ${scopeWhere('c')})
SELECT count(*)::int AS total_chargers,
       count(*) FILTER (WHERE status <> 'Offline')::int AS online,
       count(*) FILTER (WHERE status = 'Offline')::int AS offline,
       count(*) FILTER (WHERE status = 'Charging')::int AS charging,
       count(*) FILTER (WHERE status = 'Available')::int AS available,
       count(*) FILTER (WHERE status = 'Faulted')::int AS faulted,
       count(*) FILTER (WHERE status = 'Unavailable')::int AS unavailable,
       (SELECT count(*) FROM relevant WHERE stopped_at IS NULL)::int AS active_sessions,
       coalesce((SELECT wh FROM energy), 0)::double precision AS energy_wh
  FROM charger_status`;

export async function fleetSummary(db: Queryable, scope: Scope): Promise<FleetSummary> {
  const [row] = await db.query<Omit<FleetSummary, 'total_energy_today_kwh'> & { energy_wh: number }>(SQL, scopeParams(scope));
  const { energy_wh, ...counts } = row!;
  return { ...counts, total_energy_today_kwh: oneDecimal(energy_wh / 1000) };
}
