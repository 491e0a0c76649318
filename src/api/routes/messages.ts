import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { badRequest } from '../errors.js';
import { Nullable, Timestamp, errors } from '../schemas/common.js';
import { From, To, timeWindow } from '../schemas/fleet.js';
import { wireInstant } from '../../instant.js';
import { pageMessageLog, type MessageLogEntry, type MessageLogQuery } from '../../store/message-log.js';
import { requireCharger } from '../require-charger.js';

const LIMIT_DEFAULT = 100;
const LIMIT_MAX = 1000;
/** Lines one export may hold; narrow from/to for more. */
const EXPORT_MAX = 200_000;

const Params = Type.Object({ charge_point_id: Type.String({ maxLength: 256 }) }, { additionalProperties: false });
const Filters = {
  from: Type.Optional(From),
  to: Type.Optional(To),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'OCPP action, e.g. StatusNotification (a response carries its CALL\'s action).' })),
  direction: Type.Optional(Type.Union([Type.Literal('in'), Type.Literal('out')], { description: 'in: charger → Dynamo; out: Dynamo → charger.' })),
};

const Message = Type.Object({
  id: Type.String({ description: 'Position in the log (larger is newer).' }),
  timestamp: Timestamp,
  timestamp_ms: Type.String({ description: 'The same time to the millisecond (ISO 8601, UTC).' }),
  direction: Type.String({ description: 'in or out' }),
  message_type: Type.String({ description: 'CALL, CALLRESULT, CALLERROR, or MALFORMED (a frame refused before it could be read as OCPP-J).' }),
  message_id: Nullable(Type.String()),
  action: Nullable(Type.String()),
  payload: Type.Unknown({ description: 'CALL: its params; CALLRESULT: its payload; CALLERROR: error_code, error_description, error_details. Secret configuration values masked.' }),
  raw: Nullable(Type.String({ description: 'MALFORMED only: the frame as received (at most 4 KiB).' })),
  note: Nullable(Type.String({ description: 'MALFORMED only: why it was refused.' })),
  node_id: Type.String({ description: 'The Dynamo node that held the connection.' }),
});

const view = (m: MessageLogEntry) => ({
  id: m.seq,
  timestamp: m.at,
  timestamp_ms: m.at.toISOString(),
  direction: m.direction,
  message_type: m.message_type,
  message_id: m.message_id,
  action: m.action,
  payload: m.payload ?? null,
  raw: m.raw,
  note: m.note,
  node_id: m.node_id,
});

const encodeCursor = (seq: string) => Buffer.from(`v1:${seq}`).toString('base64url');
function decodeCursor(cursor: string): bigint {
  const m = /^v1:([0-9]{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw badRequest('cursor', 'cursor is not one this API gave out');
  return BigInt(m[1]!);
}

/** The raw OCPP message log of one charger (docs/api.md, message log). */
export async function messageLogRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;
  const read = { auth: { role: 'tenant' as const, scope: 'read:messages' as const } };

  const query = async (tenantId: string, cp: string, q: { from?: string; to?: string; action?: string; direction?: 'in' | 'out' }): Promise<Omit<MessageLogQuery, 'limit'>> => {
    await requireCharger(db, tenantId, cp);
    const { from, to } = timeWindow(q, false);
    return { tenantId, chargePointId: cp, from, to, action: q.action, direction: q.direction };
  };

  app.get(
    '/api/v1/cpo/chargers/:charge_point_id/messages',
    {
      config: read,
      schema: {
        tags: ['message log'],
        summary: 'Raw OCPP frames of a charger, newest first (keyset pages: pass next_cursor as cursor)',
        params: Params,
        querystring: Type.Object(
          {
            ...Filters,
            limit: Type.Integer({ minimum: 1, maximum: LIMIT_MAX, default: LIMIT_DEFAULT, description: `Entries per page (default ${LIMIT_DEFAULT}, at most ${LIMIT_MAX}).` }),
            cursor: Type.Optional(Type.String({ maxLength: 64, description: 'next_cursor of the previous page.' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            charge_point_id: Type.String(),
            messages: Type.Array(Message),
            next_cursor: Nullable(Type.String({ description: 'For the next (older) page; null on the last page.' })),
            limit: Type.Integer(),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const base = await query(tenantOf(req), req.params.charge_point_id, req.query);
      const before = req.query.cursor ? decodeCursor(req.query.cursor) : undefined;
      const limit = req.query.limit;
      const rows = await pageMessageLog(db, { ...base, before, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return {
        charge_point_id: req.params.charge_point_id,
        messages: page.map(view),
        next_cursor: rows.length > limit ? encodeCursor(page.at(-1)!.seq) : null,
        limit,
      };
    },
  );

  app.get(
    '/api/v1/cpo/chargers/:charge_point_id/messages/export',
    {
      config: read,
      schema: {
        tags: ['message log'],
        summary: `The same query as NDJSON, one message per line, newest first (at most ${EXPORT_MAX} lines), for support tickets`,
        params: Params,
        querystring: Type.Object(Filters, { additionalProperties: false }),
        response: { 200: Type.String({ description: 'application/x-ndjson' }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const base = await query(tenantOf(req), req.params.charge_point_id, req.query);
      async function* lines() {
        let before: bigint | undefined;
        let sent = 0;
        while (sent < EXPORT_MAX) {
          const rows = await pageMessageLog(db, { ...base, before, limit: Math.min(LIMIT_MAX, EXPORT_MAX - sent) });
          if (rows.length === 0) return;
          yield rows.map((r) => { const v = view(r); return JSON.stringify({ ...v, timestamp: wireInstant(v.timestamp) }) + '\n'; }).join('');
          sent += rows.length;
          before = BigInt(rows.at(-1)!.seq);
        }
      }
      const name = `${req.params.charge_point_id.replace(/[^A-Za-z0-9._-]/g, '_')}-messages.ndjson`;
      return reply
        .header('content-type', 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(Readable.from(lines()) as never);
    },
  );
}
