import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { badRequest } from '../errors.js';
import { Nullable, PageFields, PageQuery, Timestamp, errors } from '../schemas/common.js';
import { ChargePointFilter, ErrorEventSchema, From, Period, SiteFilter, To, timeWindow } from '../schemas/fleet.js';
import { fleetSummary } from '../../fleet/summary.js';
import { fleetUptime } from '../../fleet/uptime.js';
import { bucketCount, utilisationGrid, type Granularity } from '../../fleet/utilisation.js';
import { utilisationAnswer } from '../answers/utilisation-answer.js';
import { uptimeAnswer } from '../answers/uptime-answer.js';
import { sendJsonBytes } from '../answers/send-json-bytes.js';
import { errorEvents } from '../../fleet/errors.js';
import { CHARGER_SORTS, fleetChargers, type ChargerSort, type StatusFilter } from '../../fleet/chargers.js';
import { countScope } from '../../fleet/scope.js';

/** Chargers × buckets above this would be an unreasonable answer (e.g. hourly over a year for a fleet). */
export const MAX_UTILISATION_CELLS = 100_000;

const read = { auth: { role: 'tenant' as const, scope: 'read:charge_points' as const } };

export async function fleetRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;

  app.get(
    '/api/v1/cpo/fleet/summary',
    {
      config: read,
      schema: {
        tags: ['fleet'],
        summary: 'Fleet summary: aggregate totals across the fleet',
        querystring: Type.Object({ site_id: Type.Optional(SiteFilter) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            total_chargers: Type.Integer({ description: 'Total chargers registered in your fleet.' }),
            online: Type.Integer({ description: 'Chargers with an active OCPP connection.' }),
            offline: Type.Integer({ description: 'Chargers that have lost connectivity.' }),
            charging: Type.Integer({ description: 'Chargers with an active session.' }),
            available: Type.Integer({ description: 'Chargers ready to accept a new session.' }),
            faulted: Type.Integer({ description: 'Chargers reporting a fault or error status.' }),
            unavailable: Type.Integer({ description: 'Online chargers neither charging, available nor faulted (online = charging + available + faulted + unavailable).' }),
            active_sessions: Type.Integer({ description: 'Total number of sessions currently in progress.' }),
            total_energy_today_kwh: Type.Number({ description: 'Energy delivered across the fleet since midnight UTC today.' }),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => fleetSummary(db, { tenantId: tenantOf(req), siteId: req.query.site_id }),
  );

  app.get(
    '/api/v1/cpo/fleet/uptime',
    {
      config: read,
      schema: {
        tags: ['fleet'],
        summary: 'Fleet uptime: uptime percentages per charger for a given time period',
        querystring: Type.Object(
          { from: From, to: To, charge_point_id: Type.Optional(ChargePointFilter), site_id: Type.Optional(SiteFilter) },
          { additionalProperties: false },
        ),
        // Documents the answer; answers/uptime-answer.ts writes it (a change here is a change there).
        response: {
          200: Type.Object({
            period: Period,
            chargers: Type.Array(
              Type.Object({
                charge_point_id: Type.String(),
                site_id: Type.String(),
                uptime_percent: Nullable(Type.Number({ description: 'One decimal; null when the charger was not registered during the period.' })),
                downtime_minutes: Type.Integer(),
                excluded_downtime_minutes: Type.Integer({ description: 'Part of downtime_minutes inside completed maintenance windows (NEVI excluded outages), so a compliance report can subtract it.' }),
                window_minutes: Type.Integer({ description: 'The measured window: [from, to] clipped to the registration time and to now.' }),
              }),
            ),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req, reply) => {
      const { from, to } = timeWindow(req.query, true);
      const scope = { tenantId: tenantOf(req), siteId: req.query.site_id, chargePointId: req.query.charge_point_id };
      const chargers = await fleetUptime(db, scope, from!, to!, { parts: deps.fleetQueryParts });
      return sendJsonBytes(reply, uptimeAnswer({ from: from!, to: to! }, chargers));
    },
  );

  app.get(
    '/api/v1/cpo/fleet/utilisation',
    {
      config: read,
      schema: {
        tags: ['fleet'],
        summary: 'Fleet utilisation: the share of online time each charger was delivering energy',
        querystring: Type.Object(
          {
            from: From,
            to: To,
            charge_point_id: Type.Optional(ChargePointFilter),
            site_id: Type.Optional(SiteFilter),
            granularity: Type.Optional(
              Type.Union([Type.Literal('hour'), Type.Literal('day'), Type.Literal('week'), Type.Literal('month')], {
                default: 'day',
                description: 'Time bucket for results. Accepted values: hour, day, week, month (UTC; weeks start Monday).',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        // Documents the answer; answers/utilisation-answer.ts writes it (a change here is a change there).
        response: {
          200: Type.Object({
            period: Period,
            granularity: Type.String(),
            chargers: Type.Array(
              Type.Object({
                charge_point_id: Type.String(),
                buckets: Type.Array(
                  Type.Object({
                    period_start: Timestamp,
                    utilisation_percent: Nullable(Type.Number({ description: 'Charging time ÷ online time × 100, one decimal; null when never online in the bucket.' })),
                    charging_minutes: Type.Integer(),
                    online_minutes: Type.Integer(),
                  }),
                ),
              }),
            ),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req, reply) => {
      const { from, to } = timeWindow(req.query, true);
      const granularity = (req.query.granularity ?? 'day') as Granularity;
      const scope = { tenantId: tenantOf(req), siteId: req.query.site_id, chargePointId: req.query.charge_point_id };
      const cells = (await countScope(db, scope)) * bucketCount(from!, to!, granularity);
      if (cells > MAX_UTILISATION_CELLS) {
        throw badRequest(
          'granularity',
          `the answer would hold about ${cells} buckets (chargers × ${granularity}s); the limit is ${MAX_UTILISATION_CELLS}: use a coarser granularity, a shorter period, site_id or charge_point_id`,
        );
      }
      const grid = await utilisationGrid(db, scope, from!, to!, granularity, { parts: deps.fleetQueryParts });
      return sendJsonBytes(reply, utilisationAnswer({ from: from!, to: to! }, granularity, grid));
    },
  );

  app.get(
    '/api/v1/cpo/fleet/errors',
    {
      config: read,
      schema: {
        tags: ['fleet'],
        summary: 'Fleet errors: error events across the fleet, most recent first',
        querystring: Type.Object(
          {
            from: Type.Optional(From),
            to: Type.Optional(To),
            charge_point_id: Type.Optional(ChargePointFilter),
            site_id: Type.Optional(SiteFilter),
            error_code: Type.Optional(Type.String({ maxLength: 100, description: 'Filter by OCPP error code (e.g. ConnectorLockFailure).' })),
            resolved: Type.Optional(Type.Boolean({ description: 'true: only resolved events; false: only ongoing ones.' })),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ errors: Type.Array(ErrorEventSchema), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { from, to } = timeWindow(req.query, false);
      const { limit, offset } = req.query;
      const r = await errorEvents(
        db,
        { tenantId: tenantOf(req), siteId: req.query.site_id, chargePointId: req.query.charge_point_id },
        { from, to, errorCode: req.query.error_code, resolved: req.query.resolved },
        { limit, offset },
      );
      return { ...r, limit, offset };
    },
  );

  app.get(
    '/api/v1/cpo/fleet/chargers',
    {
      config: read,
      schema: {
        tags: ['fleet'],
        summary: 'List fleet chargers with their current status',
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union(['online', 'offline', 'charging', 'available', 'faulted'].map((s) => Type.Literal(s)), {
                description: 'Filter by charger status. Accepted values: online, offline, charging, available, faulted.',
              }),
            ),
            site_id: Type.Optional(SiteFilter),
            search: Type.Optional(
              Type.String({ minLength: 1, maxLength: 100, description: 'Case-insensitive text found anywhere in the identity, vendor, model or firmware version.' }),
            ),
            sort: Type.Optional(
              Type.Union(CHARGER_SORTS.map((s) => Type.Literal(s)), {
                default: 'charge_point_id',
                description: `Order of the list: ${CHARGER_SORTS.join(', ')}; ties broken by charge_point_id.`,
              }),
            ),
            order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc', description: 'asc (default) or desc; unknown values (nulls) come first in asc.' })),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            chargers: Type.Array(
              Type.Object({
                charge_point_id: Type.String(),
                site_id: Type.String(),
                vendor: Nullable(Type.String()),
                model: Nullable(Type.String()),
                firmware_version: Nullable(Type.String()),
                status: Type.String({ description: 'Offline, Faulted, Charging, Available or Unavailable (docs/metrics.md).' }),
                ocpp_version: Nullable(Type.String()),
                last_seen: Nullable(Timestamp),
                last_heartbeat: Nullable(Timestamp),
                connectors: Type.Array(
                  Type.Object({
                    connector_id: Type.Integer(),
                    type: Nullable(Type.String({ description: 'Connector type when the charger reported it (OCPP 2.x); null for 1.6.' })),
                    status: Type.String(),
                    error_code: Nullable(Type.String()),
                  }),
                ),
              }),
            ),
            ...PageFields,
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      const { limit, offset } = req.query;
      const q = req.query;
      const r = await fleetChargers(
        db,
        { tenantId: tenantOf(req), siteId: q.site_id },
        { status: q.status as StatusFilter | undefined, search: q.search, sort: q.sort as ChargerSort | undefined, order: q.order },
        { limit, offset },
      );
      return { ...r, limit, offset };
    },
  );
}
