import type { Queryable } from '../store/db.js';
import { SCOPE_CTE, scopeParams, type Scope } from './scope.js';

/** A charger (or one of its connectors) in a rule's condition now, and since when. */
export interface ConditionRow {
  charge_point_id: string;
  site_id: string;
  connector_id: number | null;
  since: Date;
  details: Record<string, unknown>;
}

/*
 * The conditions alert rules watch (docs/alerts.md), one query each, over a rule's scope
 * ($1 tenant, $2 site, $3 charger). They return every subject in the condition now, however
 * briefly; the evaluator opens an alert only once `since` is older than the rule's delay, and
 * resolves one as soon as its subject is no longer returned.
 */

/** Offline: its latest connection has ended (chargers that never connected are not watched). */
const OFFLINE = `
WITH ${SCOPE_CTE}
SELECT s.charge_point_id, s.site_id, NULL::integer AS connector_id, k.disconnected_at AS since,
       jsonb_build_object('disconnect_reason', k.disconnect_reason) AS details
  FROM scope s
  CROSS JOIN LATERAL (SELECT disconnected_at, disconnect_reason FROM connections c
                       WHERE c.charge_point_id = s.charge_point_id ORDER BY connected_at DESC LIMIT 1) k
 WHERE k.disconnected_at IS NOT NULL`;

/**
 * Faulted: the connector's current status is Faulted, since the end of its last other status
 * (repeated Faulted reports do not restart the clock). Connectivity does not clear a fault: a
 * charger that drops off while Faulted stays Faulted until it reports otherwise.
 */
const FAULTED = `
WITH ${SCOPE_CTE}
SELECT c.charge_point_id, s.site_id, c.connector_id,
       coalesce((SELECT max(i.ended_at) FROM connector_status_intervals i
                  WHERE i.charge_point_id = c.charge_point_id AND i.connector_id = c.connector_id
                    AND i.status <> 'Faulted' AND i.ended_at <= c.status_at),
                (SELECT min(i.started_at) FROM connector_status_intervals i
                  WHERE i.charge_point_id = c.charge_point_id AND i.connector_id = c.connector_id),
                c.status_at) AS since,
       jsonb_build_object('error_code', c.error_code) AS details
  FROM connectors c JOIN scope s USING (charge_point_id)
 WHERE c.status = 'Faulted'`;

/** An error event with the rule's code is open ($4 error code). */
const ERROR_CODE = `
WITH ${SCOPE_CTE}
SELECT e.charge_point_id, s.site_id, e.connector_id, e.occurred_at AS since,
       jsonb_build_object('error_code', e.error_code, 'info', e.info, 'error_event_id', e.event_id) AS details
  FROM error_events e JOIN scope s USING (charge_point_id)
 WHERE e.resolved_at IS NULL AND e.error_code = $4`;

/** Connected, yet nothing heard for $4 seconds (the multiple of the heartbeat interval). */
const NO_HEARTBEAT = `
WITH ${SCOPE_CTE}
SELECT k.charge_point_id, s.site_id, NULL::integer AS connector_id, k.last_heard_at AS since,
       jsonb_build_object('last_heard_at', k.last_heard_at) AS details
  FROM connections k JOIN scope s USING (charge_point_id)
 WHERE k.disconnected_at IS NULL AND k.last_heard_at < now() - make_interval(secs => $4)`;

export const offlineChargers = (db: Queryable, scope: Scope) => db.query<ConditionRow>(OFFLINE, scopeParams(scope));
export const faultedConnectors = (db: Queryable, scope: Scope) => db.query<ConditionRow>(FAULTED, scopeParams(scope));
export const openErrorsWithCode = (db: Queryable, scope: Scope, code: string) => db.query<ConditionRow>(ERROR_CODE, [...scopeParams(scope), code]);
export const silentChargers = (db: Queryable, scope: Scope, silentSec: number) => db.query<ConditionRow>(NO_HEARTBEAT, [...scopeParams(scope), silentSec]);
