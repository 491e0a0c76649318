import type { Queryable } from '../store/db.js';

export interface ConnectivityEvent {
  type: 'connected' | 'disconnected';
  timestamp: Date;
  reason: string | null;
  ocpp_version: string;
}

/** Connect and disconnect events in time order, from the online intervals; $2 from, $3 to (either may be NULL). */
const SQL = `
SELECT type, timestamp, reason, ocpp_version FROM (
  SELECT 'connected' AS type, connected_at AS timestamp, NULL::text AS reason, ocpp_version, connection_id, 0 AS ord
    FROM connections WHERE charge_point_id = $1
  UNION ALL
  SELECT 'disconnected', disconnected_at, disconnect_reason, ocpp_version, connection_id, 1
    FROM connections WHERE charge_point_id = $1 AND disconnected_at IS NOT NULL) ev
 WHERE ($2::timestamptz IS NULL OR timestamp >= $2) AND ($3::timestamptz IS NULL OR timestamp < $3)
 ORDER BY timestamp, connection_id, ord
 LIMIT $4`;

export async function connectivityEvents(db: Queryable, chargePointId: string, from: Date | undefined, to: Date | undefined, limit: number) {
  return db.query<ConnectivityEvent>(SQL, [chargePointId, from ?? null, to ?? null, limit]);
}
