import type { Page, Queryable } from './db.js';
import { listPage } from './list-page.js';
import { newId } from '../ids.js';
import { wireInstant } from '../instant.js';
import { emitFleetEvent } from './fleet-events.js';
import type { AlertRule } from './alert-rules.js';

export interface Alert {
  alert_id: string;
  rule_id: string | null;
  rule_name: string;
  kind: string;
  tenant_id: string;
  charge_point_id: string;
  site_id: string | null;
  connector_id: number | null;
  condition_since: Date;
  opened_at: Date;
  resolved_at: Date | null;
  details: Record<string, unknown>;
}

const COLUMNS = `alert_id, rule_id, rule_name, kind, tenant_id, charge_point_id, site_id, connector_id, condition_since,
  opened_at, resolved_at, details`;

/** A subject in a rule's condition, old enough to open an alert. */
export interface AlertSubject {
  charge_point_id: string;
  site_id: string;
  connector_id: number | null;
  since: Date;
  details: Record<string, unknown>;
}

/** The data of alert.triggered / alert.resolved (docs/events.md). */
export const alertEventData = (a: Alert) => ({
  alert_id: a.alert_id,
  rule_id: a.rule_id,
  rule_name: a.rule_name,
  kind: a.kind,
  charge_point_id: a.charge_point_id,
  site_id: a.site_id,
  connector_id: a.connector_id,
  status: a.resolved_at ? ('resolved' as const) : ('open' as const),
  condition_since: wireInstant(a.condition_since),
  opened_at: wireInstant(a.opened_at),
  resolved_at: a.resolved_at && wireInstant(a.resolved_at),
  details: a.details,
});

async function tell(db: Queryable, event: 'alert.triggered' | 'alert.resolved', a: Alert): Promise<void> {
  await emitFleetEvent(db, { tenantId: a.tenant_id, event, chargePointId: a.charge_point_id, siteId: a.site_id, data: alertEventData(a) });
}

/**
 * Opens an alert for each subject that has none open for this rule, in one statement (the unique
 * index makes a subject already open, a second evaluator or a repeat after a restart a no-op), and
 * tells the event log of each one opened. Caller's transaction.
 */
export async function openAlerts(db: Queryable, rule: AlertRule, subjects: AlertSubject[]): Promise<Alert[]> {
  if (subjects.length === 0) return [];
  const rows = subjects.map((s) => ({ ...s, alert_id: newId('alt') }));
  const opened = await db.query<Alert>(
    `INSERT INTO alerts (alert_id, rule_id, rule_name, kind, tenant_id, charge_point_id, site_id, connector_id, condition_since, details)
     SELECT x.alert_id, $2, $3, $4, $5, x.charge_point_id, x.site_id, x.connector_id, x.since, x.details
       FROM jsonb_to_recordset($1::jsonb)
         AS x(alert_id text, charge_point_id text, site_id text, connector_id integer, since timestamptz, details jsonb)
     ON CONFLICT (rule_id, charge_point_id, (coalesce(connector_id, -1))) WHERE resolved_at IS NULL DO NOTHING
     RETURNING ${COLUMNS}`,
    [JSON.stringify(rows), rule.rule_id, rule.name, rule.kind, rule.tenant_id],
  );
  for (const a of opened) await tell(db, 'alert.triggered', a);
  return opened;
}

/** Resolves the rule's open alerts whose subject is not among `still` (keys from subjectKey), with why. */
export async function resolveAlertsExcept(db: Queryable, ruleId: string, still: string[], resolution: string): Promise<Alert[]> {
  const rows = await db.query<Alert>(
    `UPDATE alerts SET resolved_at = now(), details = details || jsonb_build_object('resolution', $3::text)
      WHERE rule_id = $1 AND resolved_at IS NULL
        AND NOT (charge_point_id || '#' || coalesce(connector_id, -1) = ANY ($2::text[]))
      RETURNING ${COLUMNS}`,
    [ruleId, still, resolution],
  );
  for (const a of rows) await tell(db, 'alert.resolved', a);
  return rows;
}

export const subjectKey = (s: { charge_point_id: string; connector_id: number | null }) => `${s.charge_point_id}#${s.connector_id ?? -1}`;

export interface AlertFilter {
  tenantId: string;
  status?: 'open' | 'resolved';
  ruleId?: string;
  chargePointId?: string;
  siteId?: string;
  /** Alerts open at any time in [from, to). */
  from?: Date;
  to?: Date;
}

const FILTER = `tenant_id = $1
   AND ($2::text IS NULL OR ($2 = 'open') = (resolved_at IS NULL))
   AND ($3::text IS NULL OR rule_id = $3)
   AND ($4::text IS NULL OR charge_point_id = $4)
   AND ($5::text IS NULL OR site_id = $5)
   AND ($6::timestamptz IS NULL OR coalesce(resolved_at, 'infinity') > $6)
   AND ($7::timestamptz IS NULL OR opened_at < $7)`;

export async function listAlerts(db: Queryable, f: AlertFilter, page: Page): Promise<{ rows: Alert[]; total: number }> {
  const params = [f.tenantId, f.status ?? null, f.ruleId ?? null, f.chargePointId ?? null, f.siteId ?? null, f.from ?? null, f.to ?? null];
  return listPage<Alert>(db, { columns: COLUMNS, from: 'alerts', where: FILTER, orderBy: 'opened_at DESC, alert_id DESC' }, params, page);
}

export async function getAlert(db: Queryable, tenantId: string, alertId: string): Promise<Alert | undefined> {
  const [row] = await db.query<Alert>(`SELECT ${COLUMNS} FROM alerts WHERE tenant_id = $1 AND alert_id = $2`, [tenantId, alertId]);
  return row;
}

/** Open alerts per rule, for the metrics. */
export async function openAlertCounts(db: Queryable): Promise<{ rule_id: string; rule_name: string; n: number }[]> {
  return db.query(`SELECT rule_id, min(rule_name) AS rule_name, count(*)::int AS n FROM alerts
                    WHERE resolved_at IS NULL AND rule_id IS NOT NULL GROUP BY rule_id`);
}
