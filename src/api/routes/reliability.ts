import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { badRequest, notFound } from '../errors.js';
import { Nullable, PageFields, PageQuery, Timestamp, errors } from '../schemas/common.js';
import { ChargePointFilter, From, Period, SiteFilter, To, timeWindow } from '../schemas/fleet.js';
import { pageTotal } from '../../fleet/scope.js';
import { getCharger } from '../../store/chargers.js';
import { getSite } from '../../store/sites.js';
import { clearExclusion, exclusionAudit, setExclusion, setRatedPower } from '../../store/outage-exclusions.js';
import { EXCLUSION_REASONS, NOT_EXCLUDED, REGIMES, type RegimeName } from '../../fleet/reliability/regimes.js';
import {
  MODULE2_HEADER, MODULE3_HEADER, MODULE4_HEADER, findOutage, module2Rows, module3Rows, module4Rows, outagePages, outageView, parseOutageId, portId, portRows, regimeReport,
} from '../../fleet/reliability/report.js';
import { csvChunks } from '../../fleet/reliability/csv.js';
import { OUTCOMES, countSessionRecords, sessionRecords } from '../../fleet/reliability/session-records.js';

const read = { auth: { role: 'tenant' as const, scope: 'read:reliability' as const } };
const write = { auth: { role: 'tenant' as const, scope: 'write:reliability' as const } };

const Format = Type.Optional(
  Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json', description: 'json, or csv for the EV-ChART-shaped export (streamed).' }),
);
const Filters = { from: From, to: To, charge_point_id: Type.Optional(ChargePointFilter), site_id: Type.Optional(SiteFilter) };
const OutageParams = Type.Object({ outage_id: Type.String({ maxLength: 400, description: 'out_… (from an outage list)' }) }, { additionalProperties: false });

const Minutes = Type.Number({ description: 'Minutes, two decimals.' });
const FigureFields = {
  window_minutes: Minutes,
  outage_minutes: Type.Number({ description: 'T_outage: down time in the window (uk_pcpr: time not reliable).' }),
  excluded_minutes: Type.Number({ description: 'T_excluded: the part the regime excludes, caps applied.' }),
  uptime_percent: Nullable(Type.Number({ description: '(T − (T_outage − T_excluded)) / T × 100, two decimals; null when the window is empty.' })),
  pass: Nullable(Type.Boolean({ description: 'Against the regime threshold, from the unrounded figure; null without one.' })),
  unmeasured_minutes: Type.Number({ description: 'Offline time the regime does not count (uk_pcpr: "ineligible for measurement").' }),
};
const Aggregate = { ...FigureFields, ports: Type.Integer(), ports_passing: Nullable(Type.Integer()) };

const Exclusion = Nullable(
  Type.Object({
    reason: Type.String({ description: `${EXCLUSION_REASONS.join(', ')} or ${NOT_EXCLUDED}` }),
    source: Type.String({ description: 'operator (set through the API) or maintenance (pre-filled from a completed scheduled maintenance window).' }),
    notes: Nullable(Type.String()),
    set_by: Nullable(Type.String({ description: 'The API key id that set it.' })),
    set_at: Nullable(Timestamp),
    excluded_minutes: Type.Number({ description: 'Claimed before any cap; the report applies each regime’s caps.' }),
  }),
);
const OutageSchema = Type.Object({
  outage_id: Type.String(),
  charge_point_id: Type.String(),
  site_id: Type.String(),
  connector_id: Type.Integer(),
  cause: Type.String({ description: 'charger_offline, charger_faulted, charger_unavailable, port_faulted or port_unavailable.' }),
  error_code: Nullable(Type.String()),
  vendor_error_code: Nullable(Type.String()),
  started_at: Timestamp,
  ended_at: Nullable(Timestamp),
  duration_minutes: Minutes,
  exclusion: Exclusion,
});
const AuditEntry = Type.Object({
  action: Type.String({ description: 'set or cleared' }),
  reason: Nullable(Type.String()),
  notes: Nullable(Type.String()),
  previous_reason: Nullable(Type.String()),
  previous_notes: Nullable(Type.String()),
  actor_key_id: Type.String(),
  at: Timestamp,
});

const SessionSuccess = Type.Object({
  sessions: Type.Integer({ description: 'Sessions started in the period.' }),
  attempts: Type.Integer({ description: 'successful + no_energy + ended_in_error: authorised sessions that ended.' }),
  successful: Type.Integer({ description: 'Delivered energy and ended normally.' }),
  no_energy: Type.Integer({ description: 'Authorised, ended normally, delivered nothing.' }),
  ended_in_error: Type.Integer({ description: 'Stopped for a reason other than the driver, the vehicle or a limit set for the session.' }),
  energy_unknown: Type.Integer({ description: 'Ended normally, energy null as in the sessions API (an implausible meter reading): left out of the rate.' }),
  not_authorised: Type.Integer({ description: 'OCPP 2.x: plugged in, never authorised, nothing delivered: not an attempt.' }),
  in_progress: Type.Integer({ description: 'Not ended yet: left out of the rate.' }),
  success_rate_percent: Nullable(Type.Number({ description: '100 × successful ÷ attempts, two decimals; null without attempts.' })),
});
const SessionRecord = Type.Object({
  session_id: Type.String({ description: 'ses_… (the sessions API id)' }),
  charge_point_id: Type.String(),
  site_id: Type.String(),
  connector_id: Type.Integer({ description: 'Connector (OCPP 1.6) or EVSE (OCPP 2.x) id.' }),
  port_id: Type.String({ description: '<charge_point_id>-<connector_id>' }),
  transaction_id: Type.String(),
  started_at: Timestamp,
  stopped_at: Nullable(Timestamp),
  energy_kwh: Nullable(Type.Number({ description: 'As the sessions API counts it (dynamo_session_energy_wh); null when the meter readings do not tell.' })),
  peak_kw: Nullable(Type.Number({ description: 'Highest Power.Active.Import the charger reported for the session; null without power readings.' })),
  stop_reason: Nullable(Type.String({ description: 'OCPP 1.6 StopTransaction reason or 2.x stoppedReason.' })),
  session_error: Nullable(Type.Boolean({ description: 'Ended for a reason that is not a normal end (docs/compliance.md); null while it runs.' })),
  error_code: Nullable(Type.String({ description: 'For a session ended in error: the last fault the port or charger reported while it ran, else the stop reason.' })),
  outcome: Type.String({ description: OUTCOMES.join(', ') }),
});

function streamCsv(reply: FastifyReply, filename: string, header: readonly string[], pages: AsyncIterable<string[][]>) {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(Readable.from(csvChunks(header, pages)));
}

const stamp = (d: Date) => d.toISOString().slice(0, 10);

export async function reliabilityRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;
  const scopeOf = (req: FastifyRequest, q: { site_id?: string; charge_point_id?: string }) => ({
    tenantId: tenantOf(req),
    siteId: q.site_id,
    chargePointId: q.charge_point_id,
  });
  const requireOutage = async (req: FastifyRequest, id: string) => {
    const key = parseOutageId(id);
    if (!key) throw notFound('outage', 'outage_id');
    const tenantId = tenantOf(req);
    if (!(await getCharger(db, tenantId, key.chargePointId))) throw notFound('outage', 'outage_id');
    const outage = await findOutage(db, tenantId, key);
    if (!outage) throw notFound('outage', 'outage_id');
    return { key, tenantId, outage };
  };
  const withAudit = async (key: NonNullable<ReturnType<typeof parseOutageId>>, tenantId: string) => {
    const outage = await findOutage(db, tenantId, key);
    return { ...outageView(outage!), audit: await exclusionAudit(db, key) };
  };

  app.get(
    '/api/v1/cpo/reliability/ports',
    {
      config: read,
      schema: {
        tags: ['reliability'],
        summary: 'Per-port (connector / EVSE) uptime and outages over a period',
        querystring: Type.Object(Filters, { additionalProperties: false }),
        response: {
          200: Type.Object({
            period: Period,
            ports: Type.Array(
              Type.Object({
                charge_point_id: Type.String(),
                site_id: Type.String(),
                connector_id: Type.Integer({ description: 'Connector (OCPP 1.6) or EVSE (OCPP 2.x) id, 1…n.' }),
                port_id: Type.String({ description: '<charge_point_id>-<connector_id>, the port identifier of the exports.' }),
                in_service_since: Timestamp,
                window_minutes: Minutes,
                downtime_minutes: Minutes,
                excluded_downtime_minutes: Type.Number({ description: 'Part of the downtime excluded (NEVI reasons, before caps).' }),
                uptime_percent: Nullable(Type.Number({ description: 'Operational: every down minute counts. Two decimals.' })),
                outage_count: Type.Integer(),
              }),
            ),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      const { from, to } = timeWindow(req.query, true);
      return { period: { from: from!, to: to! }, ports: await portRows(db, scopeOf(req, req.query), from!, to!) };
    },
  );

  app.get(
    '/api/v1/cpo/reliability/outages',
    {
      config: read,
      schema: {
        tags: ['reliability'],
        summary: 'Outage records overlapping a period, with cause and exclusion; format=csv streams the EV-ChART Module 4 shape',
        querystring: Type.Object({ ...Filters, format: Format, ...PageQuery }, { additionalProperties: false }),
        response: { 200: Type.Object({ outages: Type.Array(OutageSchema), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const { from, to } = timeWindow(req.query, true);
      const scope = scopeOf(req, req.query);
      if (req.query.format === 'csv') return streamCsv(reply, `ev-chart-module4-${stamp(from!)}-${stamp(to!)}.csv`, MODULE4_HEADER, module4Rows(db, scope, from!, to!));
      // Outages are derived page by page; only the requested slice is kept.
      const { limit, offset } = req.query;
      const outages = [];
      let total = 0;
      for await (const page of outagePages(db, scope, from!, to!)) {
        for (const o of page) {
          if (total >= offset && outages.length < limit) outages.push(o);
          total += 1;
        }
      }
      return { outages, total, limit, offset };
    },
  );

  app.get(
    '/api/v1/cpo/reliability/outages/:outage_id',
    {
      config: read,
      schema: {
        tags: ['reliability'],
        summary: 'One outage with its exclusion and the audit trail of every change to it',
        params: OutageParams,
        response: { 200: Type.Object({ ...OutageSchema.properties, audit: Type.Array(AuditEntry) }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const { key, tenantId } = await requireOutage(req, req.params.outage_id);
      return withAudit(key, tenantId);
    },
  );

  app.put(
    '/api/v1/cpo/reliability/outages/:outage_id/exclusion',
    {
      config: write,
      schema: {
        tags: ['reliability'],
        summary: 'Set an outage’s exclusion (an EV-ChART reason, or not_excluded to overrule the maintenance pre-fill); audited',
        params: OutageParams,
        body: Type.Object(
          {
            reason: Type.Union([...EXCLUSION_REASONS, NOT_EXCLUDED].map((r) => Type.Literal(r)), {
              description: `One of ${[...EXCLUSION_REASONS, NOT_EXCLUDED].join(', ')}.`,
            }),
            notes: Type.Optional(Nullable(Type.String({ maxLength: 2000, description: 'Evidence: a utility outage reference, a police report number…' }))),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ ...OutageSchema.properties, audit: Type.Array(AuditEntry) }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { key, tenantId } = await requireOutage(req, req.params.outage_id);
      const principal = req.principal as { keyId: string };
      await setExclusion(db, tenantId, key, req.body.reason, req.body.notes ?? null, principal.keyId);
      return withAudit(key, tenantId);
    },
  );

  app.delete(
    '/api/v1/cpo/reliability/outages/:outage_id/exclusion',
    {
      config: write,
      schema: {
        tags: ['reliability'],
        summary: 'Clear an outage’s exclusion (the maintenance pre-fill applies again); audited',
        params: OutageParams,
        response: { 200: Type.Object({ ...OutageSchema.properties, audit: Type.Array(AuditEntry) }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const { key, tenantId } = await requireOutage(req, req.params.outage_id);
      const principal = req.principal as { keyId: string };
      if (!(await clearExclusion(db, tenantId, key, principal.keyId))) throw notFound('exclusion', 'outage_id');
      return withAudit(key, tenantId);
    },
  );

  app.get(
    '/api/v1/cpo/reliability/report',
    {
      config: read,
      schema: {
        tags: ['reliability'],
        summary: 'Uptime the way a regime counts it, per port (pass/fail), charger, site and fleet; regime=nevi&format=csv streams EV-ChART Module 3',
        querystring: Type.Object(
          {
            regime: Type.Union(REGIMES.map((r) => Type.Literal(r)), { description: 'nevi, cec, uk_pcpr or operational.' }),
            ...Filters,
            format: Format,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            regime: Type.String(),
            source: Type.String({ description: 'The rule the figures follow (docs/compliance.md).' }),
            threshold: Nullable(Type.Object({ percent: Type.Number(), comparison: Type.String({ description: 'above (strictly) or at_least' }) })),
            period: Period,
            ports: Type.Array(
              Type.Object({
                charge_point_id: Type.String(),
                site_id: Type.String(),
                connector_id: Type.Integer(),
                port_id: Type.String(),
                ...FigureFields,
                monthly: Type.Optional(Type.Array(Type.Object({ month: Timestamp, ...FigureFields }))),
                previous_12_months: Type.Optional(Type.Object({ from: Timestamp, to: Timestamp, ...FigureFields })),
              }),
            ),
            chargers: Type.Array(Type.Object({ charge_point_id: Type.String(), site_id: Type.String(), ...Aggregate })),
            sites: Type.Array(Type.Object({ site_id: Type.String(), ...Aggregate })),
            fleet: Type.Object(Aggregate),
            session_success: Type.Object(
              {
                chargers: Type.Array(Type.Object({ charge_point_id: Type.String(), site_id: Type.String(), ...SessionSuccess.properties })),
                sites: Type.Array(Type.Object({ site_id: Type.String(), ...SessionSuccess.properties })),
                fleet: SessionSuccess,
              },
              { description: 'Charge session success rate over the sessions started in the period (every charger in scope, whatever the regime covers).' },
            ),
            network: Type.Optional(
              Type.Object({
                reliability_percent: Nullable(Type.Number()),
                simple_mean_percent: Nullable(Type.Number()),
                pass: Nullable(Type.Boolean()),
                rapid_chargers: Type.Integer(),
                chargers_not_rapid: Type.Integer(),
                chargers_without_rated_power: Type.Integer(),
              }),
            ),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req, reply) => {
      const { from, to } = timeWindow(req.query, true);
      const scope = scopeOf(req, req.query);
      const regime = req.query.regime as RegimeName;
      if (req.query.format === 'csv') {
        if (regime !== 'nevi') throw badRequest('format', 'the CSV export (EV-ChART Module 3) is NEVI’s: use regime=nevi');
        return streamCsv(reply, `ev-chart-module3-${stamp(from!)}-${stamp(to!)}.csv`, MODULE3_HEADER, module3Rows(db, scope, from!, to!));
      }
      const r = await regimeReport(db, scope, regime, from!, to!);
      return { ...r, period: { from: from!, to: to! } };
    },
  );

  app.get(
    '/api/v1/cpo/reliability/sessions',
    {
      config: read,
      schema: {
        tags: ['reliability'],
        summary: 'Sessions started in a period with energy, peak power and whether each ended in error; format=csv streams the EV-ChART Module 2 shape',
        querystring: Type.Object({ ...Filters, format: Format, ...PageQuery }, { additionalProperties: false }),
        response: { 200: Type.Object({ period: Period, sessions: Type.Array(SessionRecord), ...PageFields }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const { from, to } = timeWindow(req.query, true);
      const scope = scopeOf(req, req.query);
      // A filter naming another tenant's (or no) charger or site is 404, not an empty export.
      if (scope.chargePointId && !(await getCharger(db, scope.tenantId, scope.chargePointId))) throw notFound('charger', 'charge_point_id');
      if (scope.siteId && !(await getSite(db, scope.tenantId, scope.siteId))) throw notFound('site', 'site_id');
      if (req.query.format === 'csv') return streamCsv(reply, `ev-chart-module2-${stamp(from!)}-${stamp(to!)}.csv`, MODULE2_HEADER, module2Rows(db, scope, from!, to!));
      const { limit, offset } = req.query;
      const rows = await sessionRecords(db, scope, from!, to!, { limit, offset });
      const total = await pageTotal(rows.length, { limit, offset }, () => countSessionRecords(db, scope, from!, to!));
      return {
        period: { from: from!, to: to! },
        sessions: rows.map((r) => ({ ...r, port_id: portId({ chargePointId: r.charge_point_id, connectorId: r.connector_id }) })),
        total,
        limit,
        offset,
      };
    },
  );

  app.put(
    '/api/v1/cpo/reliability/chargers/:charge_point_id',
    {
      config: write,
      schema: {
        tags: ['reliability'],
        summary: 'What the regimes need to know about a charger: its rated power (UK PCPR covers rapid charge points, 50 kW and above)',
        params: Type.Object({ charge_point_id: Type.String({ maxLength: 256 }) }, { additionalProperties: false }),
        body: Type.Object({ rated_power_kw: Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ charge_point_id: Type.String(), rated_power_kw: Nullable(Type.Number()) }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      if (!(await getCharger(db, tenantId, req.params.charge_point_id))) throw notFound('charger', 'charge_point_id');
      await setRatedPower(db, req.params.charge_point_id, req.body.rated_power_kw);
      return { charge_point_id: req.params.charge_point_id, rated_power_kw: req.body.rated_power_kw };
    },
  );
}
