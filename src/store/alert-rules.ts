import type { Page, Queryable } from './db.js';
import { listPage } from './list-page.js';
import { newId } from '../ids.js';

export const ALERT_KINDS = ['charger_offline', 'faulted', 'error_code', 'no_heartbeat', 'uptime_below'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertRule {
  rule_id: string;
  tenant_id: string;
  name: string;
  kind: AlertKind;
  site_id: string | null;
  charge_point_id: string | null;
  delay_seconds: number;
  per_connector: boolean;
  error_code: string | null;
  heartbeat_multiple: number | null;
  threshold_percent: number | null;
  window_hours: number | null;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export type AlertRuleFields = Omit<AlertRule, 'rule_id' | 'tenant_id' | 'created_at' | 'updated_at'>;

const COLUMNS = `rule_id, tenant_id, name, kind, site_id, charge_point_id, delay_seconds, per_connector, error_code,
  heartbeat_multiple, threshold_percent, window_hours, enabled, created_at, updated_at`;

export async function createAlertRule(db: Queryable, tenantId: string, f: AlertRuleFields): Promise<AlertRule> {
  const [row] = await db.query<AlertRule>(
    `INSERT INTO alert_rules (rule_id, tenant_id, name, kind, site_id, charge_point_id, delay_seconds, per_connector,
                              error_code, heartbeat_multiple, threshold_percent, window_hours, enabled)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${COLUMNS}`,
    [newId('alr'), tenantId, f.name, f.kind, f.site_id, f.charge_point_id, f.delay_seconds, f.per_connector, f.error_code,
      f.heartbeat_multiple, f.threshold_percent, f.window_hours, f.enabled],
  );
  return row!;
}

export async function getAlertRule(db: Queryable, tenantId: string, ruleId: string): Promise<AlertRule | undefined> {
  const [row] = await db.query<AlertRule>(`SELECT ${COLUMNS} FROM alert_rules WHERE tenant_id = $1 AND rule_id = $2`, [tenantId, ruleId]);
  return row;
}

export async function listAlertRules(db: Queryable, tenantId: string, page: Page): Promise<{ rows: AlertRule[]; total: number }> {
  return listPage<AlertRule>(db, { columns: COLUMNS, from: 'alert_rules', where: 'tenant_id = $1', orderBy: 'created_at, rule_id' }, [tenantId], page);
}

/** Every rule of every tenant, for the evaluator. */
export async function allAlertRules(db: Queryable): Promise<AlertRule[]> {
  return db.query<AlertRule>(`SELECT ${COLUMNS} FROM alert_rules ORDER BY rule_id`);
}

/** Replaces the rule's fields (the route merges a PATCH into the current rule and validates the result). */
export async function replaceAlertRule(db: Queryable, tenantId: string, ruleId: string, f: AlertRuleFields): Promise<AlertRule | undefined> {
  const [row] = await db.query<AlertRule>(
    `UPDATE alert_rules SET name = $3, kind = $4, site_id = $5, charge_point_id = $6, delay_seconds = $7, per_connector = $8,
            error_code = $9, heartbeat_multiple = $10, threshold_percent = $11, window_hours = $12, enabled = $13, updated_at = now()
      WHERE tenant_id = $1 AND rule_id = $2 RETURNING ${COLUMNS}`,
    [tenantId, ruleId, f.name, f.kind, f.site_id, f.charge_point_id, f.delay_seconds, f.per_connector, f.error_code,
      f.heartbeat_multiple, f.threshold_percent, f.window_hours, f.enabled],
  );
  return row;
}

export async function deleteAlertRule(db: Queryable, tenantId: string, ruleId: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM alert_rules WHERE tenant_id = $1 AND rule_id = $2 RETURNING 1', [tenantId, ruleId]);
  return rows.length > 0;
}
