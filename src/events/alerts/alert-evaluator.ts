import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db, Queryable } from '../../store/db.js';
import { allAlertRules, type AlertRule } from '../../store/alert-rules.js';
import {
  openAlertCounts,
  openAlerts,
  resolveAlertsExcept,
  subjectKey,
  type AlertSubject,
} from '../../store/alerts.js';
import { holdSingletonLease, releaseSingletonLease } from '../../store/leases.js';
import { faultedConnectors, offlineChargers, openErrorsWithCode, silentChargers, type ConditionRow } from '../../fleet/alert-conditions.js';
import { fleetUptime } from '../../fleet/uptime.js';

const LEASE = 'alert-evaluator';

export interface AlertEvaluatorOptions {
  nodeId: string;
  /** Seconds between evaluations. */
  intervalSec: number;
  /** The heartbeat interval chargers are told (BootNotification): no_heartbeat rules count in multiples of it. */
  heartbeatIntervalSec: number;
}

/**
 * Evaluates every enabled rule periodically, on one node of the cluster at a time (a lease in the
 * database; another node takes over when it lapses). Each rule is evaluated in one transaction that
 * opens, resolves and tells the event log together, and the state lives only in the database, so
 * a restart or a change of evaluator neither loses nor duplicates an alert.
 */
export class AlertEvaluator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly evaluations: Counter;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    metrics: Registry,
    private readonly opts: AlertEvaluatorOptions,
    /** Called after a pass that opened or resolved alerts (this node's event readers wake up). */
    private readonly onChange: () => void = () => {},
  ) {
    this.evaluations = new Counter({ name: 'dynamo_alert_evaluations_total', help: 'Alert rule evaluations by outcome', labelNames: ['outcome'], registers: [metrics] });
    const database = db;
    new Gauge({
      name: 'dynamo_alerts_open',
      help: 'Open alerts per rule',
      labelNames: ['rule_id', 'rule_name'],
      registers: [metrics],
      async collect() {
        this.reset();
        for (const r of await openAlertCounts(database).catch(() => [])) this.set({ rule_id: r.rule_id, rule_name: r.rule_name }, r.n);
      },
    });
  }

  start(): void {
    const tick = () => void (this.running ??= this.evaluateIfLeader().finally(() => (this.running = undefined)));
    this.timer = setInterval(tick, this.opts.intervalSec * 1000);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await releaseSingletonLease(this.db, LEASE, this.opts.nodeId).catch(() => {});
  }

  private async evaluateIfLeader(): Promise<void> {
    try {
      // The lease outlives three intervals, so one slow pass does not hand evaluation to another node.
      if (!(await holdSingletonLease(this.db, LEASE, this.opts.nodeId, Math.max(15, this.opts.intervalSec * 3)))) return;
      await this.evaluateAll();
    } catch (err) {
      this.log.warn({ err }, 'alerts: evaluation failed; retrying at the next interval');
    }
  }

  /** One pass over every rule; returns the alerts opened and resolved. */
  async evaluateAll(now = new Date()): Promise<{ opened: number; resolved: number }> {
    let opened = 0;
    let resolved = 0;
    for (const rule of await allAlertRules(this.db)) {
      try {
        const r = await this.db.transaction((tx) => evaluateRule(tx, rule, now, this.opts.heartbeatIntervalSec));
        opened += r.opened;
        resolved += r.resolved;
        this.evaluations.inc({ outcome: 'ok' });
      } catch (err) {
        this.evaluations.inc({ outcome: 'failed' });
        this.log.warn({ err, rule_id: rule.rule_id }, 'alerts: rule evaluation failed');
      }
    }
    if (opened || resolved) this.onChange();
    return { opened, resolved };
  }
}

async function evaluateRule(tx: Queryable, rule: AlertRule, now: Date, heartbeatIntervalSec: number): Promise<{ opened: number; resolved: number }> {
  if (!rule.enabled) {
    const r = await resolveAlertsExcept(tx, rule.rule_id, [], 'rule_paused');
    return { opened: 0, resolved: r.length };
  }
  const current = await subjectsNow(tx, rule, now, heartbeatIntervalSec);
  // Resolved as soon as the condition is gone; opened only once it has lasted the rule's delay.
  const resolved = await resolveAlertsExcept(tx, rule.rule_id, current.map(subjectKey), 'condition_cleared');
  // An uptime rule's window is its delay: its subjects are due at once.
  const delayMs = rule.kind === 'uptime_below' ? 0 : rule.delay_seconds * 1000;
  const due = current.filter((s) => now.getTime() - s.since.getTime() >= delayMs);
  const opened = await openAlerts(tx, rule, due);
  return { opened: opened.length, resolved: resolved.length };
}

/** Every subject in the rule's condition now, however recently it entered it. */
async function subjectsNow(tx: Queryable, rule: AlertRule, now: Date, heartbeatIntervalSec: number): Promise<AlertSubject[]> {
  const scope = { tenantId: rule.tenant_id, siteId: rule.site_id, chargePointId: rule.charge_point_id };
  switch (rule.kind) {
    case 'charger_offline':
      return offlineChargers(tx, scope);
    case 'faulted':
      return perChargerUnless(rule.per_connector, await faultedConnectors(tx, scope));
    case 'error_code':
      return perChargerUnless(rule.per_connector, await openErrorsWithCode(tx, scope, rule.error_code ?? ''));
    case 'no_heartbeat':
      return silentChargers(tx, scope, (rule.heartbeat_multiple ?? 2) * heartbeatIntervalSec);
    case 'uptime_below': {
      const from = new Date(now.getTime() - (rule.window_hours ?? 24) * 3_600_000);
      const rows = await fleetUptime(tx, scope, from, now);
      return rows
        .filter((r) => r.uptime_percent !== null && r.uptime_percent < (rule.threshold_percent ?? 0))
        .map((r) => ({
          charge_point_id: r.charge_point_id,
          site_id: r.site_id,
          connector_id: null,
          since: now,
          details: { uptime_percent: r.uptime_percent, window_hours: rule.window_hours, threshold_percent: rule.threshold_percent },
        }));
    }
  }
}

/** Connector subjects, or one per charger (the earliest since, the connectors listed) for a charger-level rule. */
function perChargerUnless(perConnector: boolean, rows: ConditionRow[]): AlertSubject[] {
  if (perConnector) return rows;
  const byCharger = new Map<string, AlertSubject & { connectors: number[] }>();
  for (const r of rows) {
    const s = byCharger.get(r.charge_point_id);
    if (!s) byCharger.set(r.charge_point_id, { ...r, connector_id: null, connectors: [r.connector_id ?? 0] });
    else {
      if (r.since < s.since) s.since = r.since;
      s.connectors.push(r.connector_id ?? 0);
    }
  }
  return [...byCharger.values()].map(({ connectors, ...s }) => ({ ...s, details: { ...s.details, connectors: connectors.sort((a, b) => a - b) } }));
}
