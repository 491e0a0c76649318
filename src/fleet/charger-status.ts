/**
 * The one rule for what a charger can do right now and over time
 * (docs/metrics.md, "Charger status" and "Down"). Connector 0 is the charger
 * itself, not a place a driver plugs in: it can make the charger Faulted or
 * down, never Available or Charging; those are decided by connectors 1…n.
 */

/**
 * Connector statuses in which a connector cannot take a new driver. Written as
 * the literal list so the partial index connector_status_intervals_down
 * (migration 0004) still matches the queries that use it.
 */
export const DOWN_STATUSES = `('Faulted', 'Unavailable')`;

/**
 * One status per charger in scope (scope.ts), as `charger_status(charge_point_id,
 * site_id, status)`. Down now (connector 0 down, or every reported connector
 * 1…n down) ranks above Charging and Available, so a charger listed Available
 * or Charging is never counted down by uptime (uptime.ts applies the same rule
 * to history).
 */
export const CHARGER_STATUS_CTE = `charger_status AS (
  SELECT s.charge_point_id, s.site_id, CASE
      WHEN NOT EXISTS (SELECT 1 FROM connections k WHERE k.charge_point_id = s.charge_point_id AND k.disconnected_at IS NULL) THEN 'Offline'
      WHEN x.faulted THEN 'Faulted'
      WHEN x.connector0_down OR x.every_connector_down THEN 'Unavailable'
      WHEN EXISTS (SELECT 1 FROM sessions z WHERE z.charge_point_id = s.charge_point_id AND z.stopped_at IS NULL) THEN 'Charging'
      WHEN x.available THEN 'Available'
      ELSE 'Unavailable' END AS status
    FROM scope s
    CROSS JOIN LATERAL (
      SELECT coalesce(bool_or(c.status = 'Faulted'), false) AS faulted,
             coalesce(bool_or(c.status IN ${DOWN_STATUSES}) FILTER (WHERE c.connector_id = 0), false) AS connector0_down,
             coalesce(bool_and(c.status IN ${DOWN_STATUSES}) FILTER (WHERE c.connector_id > 0), false) AS every_connector_down,
             coalesce(bool_or(c.status = 'Available') FILTER (WHERE c.connector_id > 0), false) AS available
        FROM connectors c WHERE c.charge_point_id = s.charge_point_id) x)`;
