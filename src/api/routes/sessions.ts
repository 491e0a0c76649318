import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { notFound } from '../errors.js';
import { Nullable, PageFields, PageQuery, Timestamp, errors } from '../schemas/common.js';
import { ChargePointFilter, From, SiteFilter, To, timeWindow } from '../schemas/fleet.js';
import { getSession, listSessions } from '../../store/sessions.js';

const Session = Type.Object({
  session_id: Type.String({ description: 'ses_…' }),
  charge_point_id: Type.String(),
  site_id: Type.String(),
  connector_id: Type.Integer({ description: 'Connector (OCPP 2.x: the EVSE id).' }),
  transaction_id: Type.String({ description: 'The charger\'s own transaction id (1.6: the one Dynamo handed out).' }),
  id_tag: Nullable(Type.String()),
  started_at: Timestamp,
  stopped_at: Nullable(Timestamp),
  energy_kwh: Nullable(Type.Number({ description: 'Delivered so far (active) or in all (completed); null when the meter readings do not tell (docs/metrics.md).' })),
  stop_reason: Nullable(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('completed')]),
});

export async function sessionRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;
  const read = { auth: { role: 'tenant' as const, scope: 'read:sessions' as const } };

  app.get(
    '/api/v1/cpo/sessions',
    {
      config: read,
      schema: {
        tags: ['sessions'],
        summary: 'Charging sessions: active ones first, then the most recently started',
        querystring: Type.Object(
          {
            charge_point_id: Type.Optional(ChargePointFilter),
            site_id: Type.Optional(SiteFilter),
            status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('completed')], { description: 'active or completed.' })),
            from: Type.Optional(From),
            to: Type.Optional(To),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ sessions: Type.Array(Session), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { from, to } = timeWindow(req.query, false);
      const { limit, offset, charge_point_id, site_id, status } = req.query;
      const { rows, total } = await listSessions(db, tenantOf(req), { chargePointId: charge_point_id, siteId: site_id, status, from, to }, { limit, offset });
      return { sessions: rows, total, limit, offset };
    },
  );

  app.get(
    '/api/v1/cpo/sessions/:session_id',
    {
      config: read,
      schema: {
        tags: ['sessions'],
        summary: 'One charging session',
        params: Type.Object({ session_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        response: { 200: Session, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const s = await getSession(db, tenantOf(req), req.params.session_id);
      if (!s) throw notFound('session', 'session_id');
      return s;
    },
  );
}
