import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { badRequest, notFound } from '../errors.js';
import { Nullable, PageFields, PageQuery, Timestamp, errors } from '../schemas/common.js';
import { ErrorEventSchema, From, To, timeWindow } from '../schemas/fleet.js';
import { getCharger } from '../../store/chargers.js';
import { createMaintenance, getMaintenance, listMaintenance, updateMaintenance, type MaintenanceEvent } from '../../store/maintenance.js';
import { diagnostics } from '../../fleet/diagnostics.js';
import { connectivityEvents } from '../../fleet/connectivity.js';
import { errorEvents } from '../../fleet/errors.js';
import { getCommandsById } from '../../store/commands.js';
import { CommandSchema, commandView } from './commands.js';

const Params = Type.Object({ charge_point_id: Type.String({ maxLength: 256, description: 'The OCPP identity of the charger.' }) }, { additionalProperties: false });
const read = { auth: { role: 'tenant' as const, scope: 'read:charge_points' as const } };
const readMaintenance = { auth: { role: 'tenant' as const, scope: 'read:maintenance' as const } };
const writeMaintenance = { auth: { role: 'tenant' as const, scope: 'write:maintenance' as const } };

const MaintenanceType = Type.Union([Type.Literal('scheduled'), Type.Literal('reactive'), Type.Literal('inspection')], {
  description: 'Maintenance type. Accepted values: scheduled, reactive, inspection.',
});
const Maintenance = Type.Object({
  event_id: Type.String({ description: 'mnt_…' }),
  charge_point_id: Type.String(),
  type: Type.String(),
  description: Type.String(),
  scheduled_at: Timestamp,
  completed_at: Nullable(Timestamp),
  technician: Nullable(Type.String()),
  notes: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  take_offline: Type.Boolean({ description: 'The charger is made unavailable for the window (set_unavailable when it starts, set_available when completed).' }),
  offline_command: Nullable({ ...CommandSchema, description: 'take_offline: the set_unavailable sent when the window started.' }),
  online_command: Nullable({ ...CommandSchema, description: 'take_offline: the set_available sent when it was completed.' }),
});
const maintenanceFields = {
  type: MaintenanceType,
  description: Type.String({ minLength: 1, maxLength: 2000, description: 'Description of the work to be carried out or completed.' }),
  scheduled_at: Type.String({ format: 'date-time', description: 'ISO 8601 date/time the maintenance is planned for.' }),
  completed_at: Type.Optional(Nullable(Type.String({ format: 'date-time', description: 'ISO 8601 date/time the maintenance was completed. Omit if not yet done.' }))),
  technician: Type.Optional(Nullable(Type.String({ maxLength: 200, description: 'Name or identifier of the assigned technician.' }))),
  notes: Type.Optional(Nullable(Type.String({ maxLength: 5000, description: 'Additional notes or findings.' }))),
  take_offline: Type.Optional(Type.Boolean({ default: false, description: 'Make the charger unavailable from scheduled_at until completed (docs/commands.md).' })),
};

function checkOrder(scheduledAt: Date, completedAt: Date | null | undefined) {
  if (completedAt && completedAt < scheduledAt) throw badRequest('completed_at', 'completed_at must not be before scheduled_at');
}

export async function chargerHistoryRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;
  /** Maintenance events with the commands their take_offline sent. */
  const withCommands = async (events: MaintenanceEvent[]) => {
    const ids = events.flatMap((e) => [e.offline_command_id, e.online_command_id]).filter((x): x is string => !!x);
    const byId = new Map((await getCommandsById(db, ids)).map((c) => [c.command_id, commandView(c)]));
    return events.map(({ offline_command_id, online_command_id, ...e }) => ({
      ...e,
      offline_command: (offline_command_id && byId.get(offline_command_id)) || null,
      online_command: (online_command_id && byId.get(online_command_id)) || null,
    }));
  };
  const requireCharger = async (tenantId: string, id: string) => {
    const c = await getCharger(db, tenantId, id);
    if (!c) throw notFound('charger', 'charge_point_id');
    return c;
  };

  app.get(
    '/api/v1/cpo/chargers/:charge_point_id/diagnostics',
    {
      config: read,
      schema: {
        tags: ['charger history'],
        summary: 'Diagnostic summary for one charger: recent error patterns and health indicators',
        params: Params,
        response: {
          200: Type.Object({
            charge_point_id: Type.String(),
            site_id: Type.String(),
            vendor: Nullable(Type.String()),
            model: Nullable(Type.String()),
            firmware_version: Nullable(Type.String()),
            uptime_30d_percent: Nullable(Type.Number()),
            utilisation_30d_percent: Nullable(Type.Number()),
            error_count_30d: Type.Integer(),
            open_error_count: Type.Integer(),
            last_error: Nullable(Type.Object({ error_code: Type.String(), timestamp: Timestamp })),
            last_heartbeat: Nullable(Timestamp),
            last_seen: Nullable(Timestamp),
            ocpp_version: Nullable(Type.String()),
            connectors: Type.Array(
              Type.Object({ connector_id: Type.Integer(), status: Type.String(), total_sessions: Type.Integer(), total_energy_kwh: Type.Number() }),
            ),
          }),
          ...errors(401, 403, 404),
        },
      },
    },
    async (req) => {
      const d = await diagnostics(db, tenantOf(req), req.params.charge_point_id);
      if (!d) throw notFound('charger', 'charge_point_id');
      return d;
    },
  );

  app.get(
    '/api/v1/cpo/chargers/:charge_point_id/connectivity',
    {
      config: read,
      schema: {
        tags: ['charger history'],
        summary: 'Timeline of connect and disconnect events for a charger',
        params: Params,
        querystring: Type.Object({ from: Type.Optional(From), to: Type.Optional(To), limit: PageQuery.limit }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            charge_point_id: Type.String(),
            events: Type.Array(
              Type.Object({
                type: Type.String({ description: 'connected or disconnected' }),
                timestamp: Timestamp,
                reason: Nullable(Type.String({ description: 'For disconnects: closed_by_charger, liveness_timeout, replaced, server_shutdown, crash_recovery, lease_lost, deregistered, credentials_changed, protocol_error.' })),
                ocpp_version: Type.String(),
              }),
            ),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      await requireCharger(tenantId, req.params.charge_point_id);
      const { from, to } = timeWindow(req.query, false);
      return { charge_point_id: req.params.charge_point_id, events: await connectivityEvents(db, req.params.charge_point_id, from, to, req.query.limit) };
    },
  );

  app.get(
    '/api/v1/cpo/chargers/:charge_point_id/error-history',
    {
      config: read,
      schema: {
        tags: ['charger history'],
        summary: 'Full error history of a charger, most recent first',
        params: Params,
        querystring: Type.Object({ from: Type.Optional(From), to: Type.Optional(To), ...PageQuery }, { additionalProperties: false }),
        response: {
          200: Type.Object({ charge_point_id: Type.String(), errors: Type.Array(ErrorEventSchema), ...PageFields }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      await requireCharger(tenantId, req.params.charge_point_id);
      const { from, to } = timeWindow(req.query, false);
      const { limit, offset } = req.query;
      const r = await errorEvents(db, { tenantId, chargePointId: req.params.charge_point_id }, { from, to }, { limit, offset });
      return { charge_point_id: req.params.charge_point_id, ...r, limit, offset };
    },
  );

  app.get(
    '/api/v1/cpo/chargers/:charge_point_id/maintenance',
    {
      config: readMaintenance,
      schema: {
        tags: ['maintenance'],
        summary: 'All maintenance events recorded for a charger',
        params: Params,
        querystring: Type.Object({ from: Type.Optional(From), to: Type.Optional(To) }, { additionalProperties: false }),
        response: { 200: Type.Object({ charge_point_id: Type.String(), events: Type.Array(Maintenance) }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      await requireCharger(tenantId, req.params.charge_point_id);
      const { from, to } = timeWindow(req.query, false);
      return { charge_point_id: req.params.charge_point_id, events: await withCommands(await listMaintenance(db, req.params.charge_point_id, from, to)) };
    },
  );

  app.post(
    '/api/v1/cpo/chargers/:charge_point_id/maintenance',
    {
      config: writeMaintenance,
      schema: {
        tags: ['maintenance'],
        summary: 'Log a planned or completed maintenance event against a charger',
        params: Params,
        body: Type.Object(maintenanceFields, { additionalProperties: false }),
        response: { 201: Maintenance, ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const tenantId = tenantOf(req);
      await requireCharger(tenantId, req.params.charge_point_id);
      const b = req.body;
      const scheduledAt = new Date(b.scheduled_at);
      const completedAt = b.completed_at ? new Date(b.completed_at) : null;
      checkOrder(scheduledAt, completedAt);
      const created = await createMaintenance(db, req.params.charge_point_id, {
        type: b.type,
        description: b.description,
        scheduled_at: scheduledAt,
        completed_at: completedAt,
        technician: b.technician,
        notes: b.notes,
        take_offline: b.take_offline,
      });
      if (created.take_offline) await deps.maintenance.changed();
      const linked = created.take_offline ? (await getMaintenance(db, req.params.charge_point_id, created.event_id))! : created;
      return reply.code(201).send((await withCommands([linked]))[0]!);
    },
  );

  app.patch(
    '/api/v1/cpo/chargers/:charge_point_id/maintenance/:event_id',
    {
      config: writeMaintenance,
      schema: {
        tags: ['maintenance'],
        summary: 'Edit or complete a maintenance event (e.g. set completed_at)',
        params: Type.Object({ charge_point_id: Params.properties.charge_point_id, event_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        body: Type.Object(
          {
            type: Type.Optional(MaintenanceType),
            description: Type.Optional(maintenanceFields.description),
            take_offline: Type.Optional(Type.Boolean({ description: 'Make the charger unavailable for the window (docs/commands.md).' })),
            scheduled_at: Type.Optional(maintenanceFields.scheduled_at),
            completed_at: maintenanceFields.completed_at,
            technician: maintenanceFields.technician,
            notes: maintenanceFields.notes,
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Maintenance, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      const cp = req.params.charge_point_id;
      await requireCharger(tenantId, cp);
      const current = await getMaintenance(db, cp, req.params.event_id);
      if (!current) throw notFound('maintenance event', 'event_id');
      const b = req.body;
      const patch: Partial<Omit<MaintenanceEvent, 'event_id'>> = {};
      if (b.type) patch.type = b.type;
      if (b.description) patch.description = b.description;
      if (b.scheduled_at) patch.scheduled_at = new Date(b.scheduled_at);
      if (b.completed_at !== undefined) patch.completed_at = b.completed_at ? new Date(b.completed_at) : null;
      if (b.technician !== undefined) patch.technician = b.technician;
      if (b.notes !== undefined) patch.notes = b.notes;
      if (b.take_offline !== undefined) patch.take_offline = b.take_offline;
      checkOrder(patch.scheduled_at ?? current.scheduled_at, 'completed_at' in patch ? patch.completed_at : current.completed_at);
      let updated = (await updateMaintenance(db, cp, req.params.event_id, patch))!;
      if (updated.take_offline) {
        await deps.maintenance.changed();
        updated = (await getMaintenance(db, cp, req.params.event_id))!;
      }
      return (await withCommands([updated]))[0]!;
    },
  );
}
