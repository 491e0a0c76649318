import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { ChargePointId, Nullable, PageFields, PageQuery, SiteId, Timestamp, errors } from '../schemas/common.js';
import { From, To, timeWindow } from '../schemas/fleet.js';
import { COMMAND_NAMES, COMMAND_STATUSES } from '../../commands/catalog.js';
import { CommandConflictError, CommandInputError, CommandNotFoundError } from '../../commands/errors.js';
import type { CommandRow } from '../../store/commands.js';

const CommandNameSchema = Type.Unsafe<string>({ type: 'string', enum: COMMAND_NAMES, description: `One of ${COMMAND_NAMES.join(', ')} (docs/commands.md).` });
const Parameters = Type.Object({}, { additionalProperties: true, description: 'The command\'s parameters; each command has its own schema (docs/commands.md).' });
const TimeoutSeconds = Type.Integer({ minimum: 1, maximum: 60, default: 10, description: 'How long to wait for the charger, queueing behind earlier commands included (default 10, at most 60).' });

export const CommandSchema = Type.Object({
  id: Type.String({ description: 'cmd_…' }),
  charge_point_id: Type.String(),
  command: Type.String(),
  parameters: Type.Object({}, { additionalProperties: true, description: 'As sent; secret configuration values masked.' }),
  status: Type.Unsafe<string>({ type: 'string', enum: COMMAND_STATUSES, description: 'Pending while queued or in flight; then Accepted, Rejected, NotSupported, Timeout, Error or Offline.' }),
  ocpp_version: Nullable(Type.String()),
  ocpp_action: Nullable(Type.String({ description: 'The OCPP CALL it was sent as.' })),
  response: Type.Unknown({ description: 'The charger\'s CALLRESULT payload (secrets masked), or null.' }),
  error: Nullable(Type.Object({ code: Type.String(), description: Type.String(), details: Type.Optional(Type.Unknown()) }, { additionalProperties: false })),
  round_trip_ms: Nullable(Type.Integer()),
  timeout_seconds: Type.Integer(),
  requested_by: Type.String({ description: 'The API key id that sent it, or maintenance:mnt_… for a maintenance window.' }),
  bulk_id: Nullable(Type.String()),
  created_at: Timestamp,
  completed_at: Nullable(Timestamp),
  progress: Nullable(Type.Array(Type.Object({ status: Type.String(), timestamp: Timestamp }), {
    description: 'update_firmware / get_diagnostics: the charger\'s status notifications since (FirmwareStatusNotification; DiagnosticsStatusNotification or LogStatusNotification).',
  })),
});

export const commandView = (c: CommandRow) => ({
  id: c.command_id,
  charge_point_id: c.charge_point_id,
  command: c.command,
  parameters: c.parameters,
  status: c.status,
  ocpp_version: c.ocpp_version,
  ocpp_action: c.ocpp_action,
  response: c.response ?? null,
  error: c.error,
  round_trip_ms: c.round_trip_ms,
  timeout_seconds: Math.round(c.timeout_ms / 1000),
  requested_by: c.requested_by,
  bulk_id: c.bulk_id,
  created_at: c.created_at,
  completed_at: c.completed_at,
  progress: c.progress ? c.progress.map((p) => ({ status: p.status, timestamp: new Date(p.timestamp) })) : null,
});

/** The command layer's refusals in the API's one error shape. */
function asApiError(err: unknown): unknown {
  if (err instanceof CommandInputError) return badRequest(err.parameter, err.message);
  if (err instanceof CommandNotFoundError) return notFound(err.what, err.parameter);
  if (err instanceof CommandConflictError) return conflict(err.code, err.message, err.parameter);
  return err;
}
async function refusalsAsApiErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw asApiError(err);
  }
}

const requester = (req: FastifyRequest) => (req.principal?.kind === 'tenant' ? req.principal.keyId : 'unknown');

export async function commandRoutes(app: App, deps: ApiDeps) {
  const { commands } = deps;
  const write = { auth: { role: 'tenant' as const, scope: 'write:commands' as const } };
  const read = { auth: { role: 'tenant' as const, scope: 'read:commands' as const } };

  app.post(
    '/api/v1/cpo/commands/bulk',
    {
      config: write,
      schema: {
        tags: ['commands'],
        summary: 'Send one command to many chargers (named, or every charger of a site); runs in the background',
        body: Type.Object(
          {
            command: CommandNameSchema,
            parameters: Type.Optional(Parameters),
            charge_point_ids: Type.Optional(Type.Array(ChargePointId, { minItems: 1, maxItems: 10_000, uniqueItems: true })),
            site_id: Type.Optional(SiteId),
            timeout_seconds: Type.Optional(TimeoutSeconds),
          },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ id: Type.String({ description: 'cmb_…' }), total: Type.Integer() }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if ((b.charge_point_ids === undefined) === (b.site_id === undefined)) throw badRequest('charge_point_ids', 'give exactly one of charge_point_ids and site_id');
      const r = await refusalsAsApiErrors(() =>
        commands.startBulk({
          tenantId: tenantOf(req), command: b.command, parameters: b.parameters ?? {}, chargePointIds: b.charge_point_ids, siteId: b.site_id,
          timeoutMs: (b.timeout_seconds ?? 10) * 1000, requestedBy: requester(req),
        }),
      );
      return reply.code(202).send({ id: r.bulk_id, total: r.total });
    },
  );

  app.get(
    '/api/v1/cpo/commands/bulk/:bulk_id',
    {
      config: read,
      schema: {
        tags: ['commands'],
        summary: 'Progress of a bulk command and its per-charger results',
        params: Type.Object({ bulk_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: Type.Object({
            id: Type.String(),
            command: Type.String(),
            parameters: Type.Object({}, { additionalProperties: true }),
            total: Type.Integer(),
            done: Type.Integer({ description: 'Chargers whose command has ended.' }),
            counts: Type.Record(Type.String(), Type.Integer(), { description: 'Commands by status.' }),
            requested_by: Type.String(),
            created_at: Timestamp,
            completed_at: Nullable(Timestamp),
            results: Type.Array(CommandSchema, { description: 'One command per charger, paged (limit, offset).' }),
            limit: Type.Integer(),
            offset: Type.Integer(),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      const bulk = await commands.getBulk(tenantId, req.params.bulk_id);
      if (!bulk) throw notFound('bulk command', 'bulk_id');
      const { limit, offset } = req.query;
      const { rows } = await commands.list(tenantId, { bulkId: bulk.bulk_id }, { limit, offset });
      const done = Object.entries(bulk.counts).reduce((n, [s, k]) => (s === 'Pending' ? n : n + k), 0);
      return {
        id: bulk.bulk_id, command: bulk.command, parameters: bulk.parameters, total: bulk.total, done, counts: bulk.counts,
        requested_by: bulk.requested_by, created_at: bulk.created_at, completed_at: bulk.completed_at, results: rows.map(commandView), limit, offset,
      };
    },
  );

  app.post(
    '/api/v1/cpo/commands/:charge_point_id',
    {
      config: write,
      schema: {
        tags: ['commands'],
        summary: 'Send a command to a charger and wait for its answer',
        description: 'Answers 200 with the command record once the charger answered, the timeout passed, or at once when the charger is not connected (status Offline; nothing is queued).',
        params: Type.Object({ charge_point_id: Type.String({ maxLength: 256 }) }, { additionalProperties: false }),
        body: Type.Object({ command: CommandNameSchema, parameters: Type.Optional(Parameters), timeout_seconds: Type.Optional(TimeoutSeconds) }, { additionalProperties: false }),
        response: { 200: CommandSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const row = await refusalsAsApiErrors(() =>
        commands.send({
          tenantId: tenantOf(req), chargePointId: req.params.charge_point_id, command: req.body.command, parameters: req.body.parameters ?? {},
          timeoutMs: (req.body.timeout_seconds ?? 10) * 1000, requestedBy: requester(req),
        }),
      );
      return commandView(row);
    },
  );

  app.get(
    '/api/v1/cpo/commands',
    {
      config: read,
      schema: {
        tags: ['commands'],
        summary: 'Commands sent, newest first',
        querystring: Type.Object(
          {
            charge_point_id: Type.Optional(Type.String({ maxLength: 48 })),
            command: Type.Optional(CommandNameSchema),
            status: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: COMMAND_STATUSES })),
            from: Type.Optional(From),
            to: Type.Optional(To),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ commands: Type.Array(CommandSchema), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { from, to } = timeWindow(req.query, false);
      const { limit, offset, charge_point_id, command, status } = req.query;
      const { rows, total } = await commands.list(tenantOf(req), { chargePointId: charge_point_id, command, status, from, to }, { limit, offset });
      return { commands: rows.map(commandView), total, limit, offset };
    },
  );

  app.get(
    '/api/v1/cpo/commands/:command_id',
    {
      config: read,
      schema: {
        tags: ['commands'],
        summary: 'One command',
        params: Type.Object({ command_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        response: { 200: CommandSchema, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const row = await commands.get(tenantOf(req), req.params.command_id);
      if (!row) throw notFound('command', 'command_id');
      return commandView(row);
    },
  );
}

