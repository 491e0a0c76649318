import { Type, type Static } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { badRequest, notFound } from '../errors.js';
import { Nullable, NullableTimestamp, PageFields, PageQuery, Timestamp, errors } from '../schemas/common.js';
import { ChargePointFilter, From, SiteFilter, To } from '../schemas/fleet.js';
import { getSite } from '../../store/sites.js';
import {
  ALERT_KINDS,
  createAlertRule,
  deleteAlertRule,
  getAlertRule,
  listAlertRules,
  replaceAlertRule,
  type AlertKind,
  type AlertRule,
  type AlertRuleFields,
} from '../../store/alert-rules.js';
import { alertEventData, getAlert, listAlerts, resolveAlertsExcept } from '../../store/alerts.js';
import { requireCharger } from '../require-charger.js';

const readAlerts = { auth: { role: 'tenant' as const, scope: 'read:alerts' as const } };
const writeAlerts = { auth: { role: 'tenant' as const, scope: 'write:alerts' as const } };

/** How long a condition must last before a rule fires, unless the rule says otherwise (docs/alerts.md). */
export const DEFAULT_DELAY_MINUTES: Record<AlertKind, number> = {
  charger_offline: 5,
  faulted: 5,
  error_code: 1,
  no_heartbeat: 0,
  uptime_below: 0,
};

const Kind = Type.Unsafe<AlertKind>({
  type: 'string',
  enum: [...ALERT_KINDS],
  description:
    'charger_offline: offline for more than delay_minutes; faulted: a connector (or the charger) Faulted for more than delay_minutes; ' +
    'error_code: an error event with error_code open for more than delay_minutes; no_heartbeat: connected but nothing heard for ' +
    'heartbeat_multiple × the heartbeat interval; uptime_below: uptime over the last window_hours below threshold_percent.',
});

const RuleFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: Kind,
  site_id: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'Watch only this site.' }))),
  charge_point_id: Type.Optional(Nullable(Type.String({ maxLength: 48, description: 'Watch only this charger.' }))),
  delay_minutes: Type.Optional(Type.Number({ minimum: 0, maximum: 10_080, description: 'How long the condition must last before an alert opens (fractions allowed). Defaults: offline 5, faulted 5, error_code 1, others 0.' })),
  per_connector: Type.Optional(Type.Boolean({ description: 'faulted and error_code: one alert per connector instead of one per charger (default false).' })),
  error_code: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64, description: 'error_code rules: the code to watch (e.g. GroundFailure).' }))),
  heartbeat_multiple: Type.Optional(Nullable(Type.Number({ minimum: 1, maximum: 100, description: 'no_heartbeat rules: silence longer than this many heartbeat intervals (default 2).' }))),
  threshold_percent: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 100, description: 'uptime_below rules: fire below this uptime.' }))),
  window_hours: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 720, description: 'uptime_below rules: the rolling window (default 24).' }))),
  enabled: Type.Optional(Type.Boolean({ description: 'false pauses the rule; its open alerts resolve.' })),
};

const RuleSchema = Type.Object({
  rule_id: Type.String({ description: 'alr_…' }),
  name: Type.String(),
  kind: Kind,
  site_id: Nullable(Type.String()),
  charge_point_id: Nullable(Type.String()),
  delay_minutes: Type.Number(),
  per_connector: Type.Boolean(),
  error_code: Nullable(Type.String()),
  heartbeat_multiple: Nullable(Type.Number()),
  threshold_percent: Nullable(Type.Number()),
  window_hours: Nullable(Type.Integer()),
  enabled: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const AlertSchema = Type.Object({
  alert_id: Type.String({ description: 'alt_…' }),
  rule_id: Nullable(Type.String({ description: 'null once the rule is deleted' })),
  rule_name: Type.String(),
  kind: Type.String(),
  charge_point_id: Type.String(),
  site_id: Nullable(Type.String()),
  connector_id: Nullable(Type.Integer()),
  status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  condition_since: Timestamp,
  opened_at: Timestamp,
  resolved_at: NullableTimestamp,
  details: Type.Record(Type.String(), Type.Unknown()),
});

const RuleParams = Type.Object({ rule_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
const AlertParams = Type.Object({ alert_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

const ruleView = (r: AlertRule) => ({
  rule_id: r.rule_id,
  name: r.name,
  kind: r.kind,
  site_id: r.site_id,
  charge_point_id: r.charge_point_id,
  delay_minutes: r.delay_seconds / 60,
  per_connector: r.per_connector,
  error_code: r.error_code,
  heartbeat_multiple: r.heartbeat_multiple,
  threshold_percent: r.threshold_percent,
  window_hours: r.window_hours,
  enabled: r.enabled,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

/** An alert as the API shows it: the data of its alert.triggered / alert.resolved events. */
const alertView = alertEventData;

type RuleInput = Partial<Static<ReturnType<typeof Type.Object<typeof RuleFields>>>>;

/** The stored fields of a rule from a request, with the kind's defaults and checks. */
function ruleFields(b: RuleInput, base?: AlertRule): AlertRuleFields {
  const kind = (b.kind ?? base?.kind)!;
  const pick = <K extends keyof RuleInput>(k: K, fromBase: unknown) => (k in b ? b[k] : fromBase);
  const sameKind = base?.kind === kind;
  const f: AlertRuleFields = {
    name: (b.name ?? base?.name)!,
    kind,
    site_id: (pick('site_id', base?.site_id) as string | null | undefined) ?? null,
    charge_point_id: (pick('charge_point_id', base?.charge_point_id) as string | null | undefined) ?? null,
    delay_seconds: Math.round(60 * ((b.delay_minutes ?? (sameKind ? base!.delay_seconds / 60 : DEFAULT_DELAY_MINUTES[kind])) as number)),
    per_connector: b.per_connector ?? (sameKind ? base!.per_connector : false),
    error_code: (pick('error_code', sameKind ? base?.error_code : null) as string | null | undefined) ?? null,
    heartbeat_multiple: (pick('heartbeat_multiple', sameKind ? base?.heartbeat_multiple : null) as number | null | undefined) ?? null,
    threshold_percent: (pick('threshold_percent', sameKind ? base?.threshold_percent : null) as number | null | undefined) ?? null,
    window_hours: (pick('window_hours', sameKind ? base?.window_hours : null) as number | null | undefined) ?? null,
    enabled: b.enabled ?? base?.enabled ?? true,
  };
  if (f.site_id && f.charge_point_id) throw badRequest('charge_point_id', 'a rule watches a site or a charger, not both');
  const only = (field: keyof AlertRuleFields, kinds: AlertKind[]) => {
    const v = f[field];
    if (v !== null && v !== false && !kinds.includes(kind)) throw badRequest(field, `${field} applies only to ${kinds.join(' and ')} rules`);
  };
  only('per_connector', ['faulted', 'error_code']);
  only('error_code', ['error_code']);
  only('heartbeat_multiple', ['no_heartbeat']);
  only('threshold_percent', ['uptime_below']);
  only('window_hours', ['uptime_below']);
  if (kind === 'uptime_below' && f.delay_seconds !== 0) throw badRequest('delay_minutes', 'an uptime_below rule has no delay: its window_hours is its delay');
  if (kind === 'error_code' && f.error_code === null) throw badRequest('error_code', 'an error_code rule needs error_code');
  if (kind === 'uptime_below' && f.threshold_percent === null) throw badRequest('threshold_percent', 'an uptime_below rule needs threshold_percent');
  if (kind === 'uptime_below') f.window_hours ??= 24;
  if (kind === 'no_heartbeat') f.heartbeat_multiple ??= 2;
  return f;
}

export async function alertRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;

  /** A rule may only watch the tenant's own site or charger: another tenant's is unknown (404). */
  async function checkScope(tenantId: string, f: AlertRuleFields) {
    if (f.site_id && !(await getSite(db, tenantId, f.site_id))) throw notFound('site', 'site_id');
    if (f.charge_point_id) await requireCharger(db, tenantId, f.charge_point_id);
  }

  app.post(
    '/api/v1/cpo/alert-rules',
    {
      config: writeAlerts,
      schema: {
        tags: ['alerts'],
        summary: 'Create an alert rule',
        body: Type.Object({ ...RuleFields }, { additionalProperties: false }),
        response: { 201: RuleSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const f = ruleFields(req.body);
      await checkScope(tenantOf(req), f);
      return reply.code(201).send(ruleView(await createAlertRule(db, tenantOf(req), f)));
    },
  );

  app.get(
    '/api/v1/cpo/alert-rules',
    {
      config: readAlerts,
      schema: {
        tags: ['alerts'],
        summary: "List the tenant's alert rules",
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Type.Object({ rules: Type.Array(RuleSchema), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { rows, total } = await listAlertRules(db, tenantOf(req), req.query);
      return { rules: rows.map(ruleView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/api/v1/cpo/alert-rules/:rule_id',
    { config: readAlerts, schema: { tags: ['alerts'], summary: 'Get an alert rule', params: RuleParams, response: { 200: RuleSchema, ...errors(401, 403, 404) } } },
    async (req) => {
      const rule = await getAlertRule(db, tenantOf(req), req.params.rule_id);
      if (!rule) throw notFound('alert rule', 'rule_id');
      return ruleView(rule);
    },
  );

  app.patch(
    '/api/v1/cpo/alert-rules/:rule_id',
    {
      config: writeAlerts,
      schema: {
        tags: ['alerts'],
        summary: 'Change an alert rule, or pause it with enabled: false',
        params: RuleParams,
        body: Type.Object({ ...RuleFields, name: Type.Optional(RuleFields.name), kind: Type.Optional(Kind) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: RuleSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      const current = await getAlertRule(db, tenantId, req.params.rule_id);
      if (!current) throw notFound('alert rule', 'rule_id');
      const f = ruleFields(req.body, current);
      await checkScope(tenantId, f);
      const updated = await replaceAlertRule(db, tenantId, req.params.rule_id, f);
      if (!updated) throw notFound('alert rule', 'rule_id');
      return ruleView(updated);
    },
  );

  app.delete(
    '/api/v1/cpo/alert-rules/:rule_id',
    {
      config: writeAlerts,
      schema: {
        tags: ['alerts'],
        summary: 'Delete an alert rule; its open alerts resolve, its alerts stay in the history',
        params: RuleParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const tenantId = tenantOf(req);
      const deleted = await db.transaction(async (tx) => {
        if (!(await getAlertRule(tx, tenantId, req.params.rule_id))) return false;
        await resolveAlertsExcept(tx, req.params.rule_id, [], 'rule_deleted');
        return deleteAlertRule(tx, tenantId, req.params.rule_id);
      });
      if (!deleted) throw notFound('alert rule', 'rule_id');
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/cpo/alerts',
    {
      config: readAlerts,
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first: open and resolved, with the charger and times',
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
            rule_id: Type.Optional(Type.String({ maxLength: 64 })),
            charge_point_id: Type.Optional(ChargePointFilter),
            site_id: Type.Optional(SiteFilter),
            from: Type.Optional({ ...From, description: 'Alerts open at any time at or after this instant.' }),
            to: Type.Optional({ ...To, description: 'Alerts opened before this instant.' }),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ alerts: Type.Array(AlertSchema), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const q = req.query;
      const from = q.from ? new Date(q.from) : undefined;
      const to = q.to ? new Date(q.to) : undefined;
      if (from && to && from >= to) throw badRequest('to', 'to must be after from');
      const { rows, total } = await listAlerts(
        db,
        { tenantId: tenantOf(req), status: q.status, ruleId: q.rule_id, chargePointId: q.charge_point_id, siteId: q.site_id, from, to },
        q,
      );
      return { alerts: rows.map(alertView), total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/api/v1/cpo/alerts/:alert_id',
    { config: readAlerts, schema: { tags: ['alerts'], summary: 'Get an alert', params: AlertParams, response: { 200: AlertSchema, ...errors(401, 403, 404) } } },
    async (req) => {
      const alert = await getAlert(db, tenantOf(req), req.params.alert_id);
      if (!alert) throw notFound('alert', 'alert_id');
      return alertView(alert);
    },
  );
}
