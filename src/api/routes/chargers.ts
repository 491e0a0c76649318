import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { conflict, notFound } from '../errors.js';
import { ChargePointId, Nullable, PageFields, PageQuery, SiteId, Timestamp, errors } from '../schemas/common.js';
import { getSite } from '../../store/sites.js';
import {
  deleteCharger,
  getCharger,
  insertCharger,
  listChargers,
  updateCharger,
  type ChargerPatch,
  type ChargerRecord,
} from '../../store/chargers.js';
import { hashPassword } from '../../security/secrets.js';
import { requireCharger } from '../require-charger.js';

const Charger = Type.Object({
  charge_point_id: Type.String(),
  site_id: Type.String(),
  vendor: Nullable(Type.String()),
  model: Nullable(Type.String()),
  serial_number: Nullable(Type.String()),
  firmware_version: Nullable(Type.String()),
  lenient: Type.Boolean({ description: 'Lenient mode: schema deviations are recorded and the message still processed.' }),
  has_password: Type.Boolean({ description: 'Whether the charger must present a password (OCPP Security Profile 1/2).' }),
  client_cert_required: Type.Boolean({ description: 'Whether the charger must present a client certificate for its identity (OCPP Security Profile 3; needs DYNAMO_TLS_CA).' }),
  registered_at: Timestamp,
  updated_at: Timestamp,
  firmware_status: Nullable(Type.Object({ status: Type.String(), timestamp: Timestamp }, { description: 'The last FirmwareStatusNotification and when it came (see update_firmware, docs/commands.md).' })),
  diagnostics_status: Nullable(Type.Object({ status: Type.String(), timestamp: Timestamp }, { description: 'The last DiagnosticsStatusNotification / LogStatusNotification and when it came.' })),
});
// OCPP 1.6 Security whitepaper / 2.0.1 A00: BasicAuthPassword is 16 to 40 characters; we accept 8 to 64 for older chargers.
const Password = Type.String({ minLength: 8, maxLength: 64, description: 'HTTP Basic password the charger must present; stored hashed.' });
const Text = Type.String({ maxLength: 100 });
const Params = Type.Object({ charge_point_id: Type.String({ maxLength: 256 }) }, { additionalProperties: false });

const status = (s: { status: string; timestamp: Date | string } | null) => (s ? { status: s.status, timestamp: new Date(s.timestamp) } : null);
const view = ({ tenant_id: _t, ...c }: ChargerRecord) => ({ ...c, firmware_status: status(c.firmware_status), diagnostics_status: status(c.diagnostics_status) });

export async function chargerRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;
  const read = { auth: { role: 'tenant' as const, scope: 'read:charge_points' as const } };
  const write = { auth: { role: 'tenant' as const, scope: 'write:charge_points' as const } };

  const requireSite = async (tenantId: string, siteId: string) => {
    if (!(await getSite(db, tenantId, siteId))) throw notFound('site', 'site_id');
  };

  app.post(
    '/api/v1/cpo/chargers',
    {
      config: write,
      schema: {
        tags: ['chargers'],
        summary: 'Register a charger so it may connect over OCPP',
        body: Type.Object(
          {
            charge_point_id: ChargePointId,
            site_id: SiteId,
            password: Type.Optional(Password),
            vendor: Type.Optional(Text),
            model: Type.Optional(Text),
            lenient: Type.Optional(Type.Boolean({ default: false })),
            client_cert_required: Type.Optional(Type.Boolean({ default: false })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Charger, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req, reply) => {
      const tenantId = tenantOf(req);
      await requireSite(tenantId, req.body.site_id);
      const charger = await insertCharger(db, {
        chargePointId: req.body.charge_point_id,
        tenantId,
        siteId: req.body.site_id,
        passwordHash: req.body.password ? await hashPassword(req.body.password) : null,
        vendor: req.body.vendor,
        model: req.body.model,
        lenient: req.body.lenient,
        clientCertRequired: req.body.client_cert_required,
      });
      if (!charger) throw conflict('charger_exists', `charge_point_id "${req.body.charge_point_id}" is already registered`, 'charge_point_id');
      return reply.code(201).send(view(charger));
    },
  );

  app.get(
    '/api/v1/cpo/chargers',
    {
      config: read,
      schema: {
        tags: ['chargers'],
        summary: 'List registered chargers',
        querystring: Type.Object({ ...PageQuery, site_id: Type.Optional(SiteId) }, { additionalProperties: false }),
        response: { 200: Type.Object({ chargers: Type.Array(Charger), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { limit, offset, site_id } = req.query;
      const { rows, total } = await listChargers(db, tenantOf(req), { siteId: site_id }, { limit, offset });
      return { chargers: rows.map(view), total, limit, offset };
    },
  );

  app.get(
    '/api/v1/cpo/chargers/:charge_point_id',
    { config: read, schema: { tags: ['chargers'], summary: 'Get a registered charger', params: Params, response: { 200: Charger, ...errors(401, 403, 404) } } },
    async (req) => {
      const charger = await getCharger(db, tenantOf(req), req.params.charge_point_id);
      if (!charger) throw notFound('charger', 'charge_point_id');
      return view(charger);
    },
  );

  app.patch(
    '/api/v1/cpo/chargers/:charge_point_id',
    {
      config: write,
      schema: {
        tags: ['chargers'],
        summary: 'Update a charger (site, password, vendor, model, lenient mode)',
        params: Params,
        body: Type.Object(
          {
            site_id: Type.Optional(SiteId),
            password: Type.Optional(Nullable(Password)),
            vendor: Type.Optional(Nullable(Text)),
            model: Type.Optional(Nullable(Text)),
            lenient: Type.Optional(Type.Boolean()),
            client_cert_required: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Charger, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      const { site_id, password, client_cert_required, ...rest } = req.body;
      if (site_id) await requireSite(tenantId, site_id);
      const patch: ChargerPatch = { ...rest, siteId: site_id, clientCertRequired: client_cert_required };
      if (password !== undefined) patch.passwordHash = password === null ? null : await hashPassword(password);
      const charger = await updateCharger(db, tenantId, req.params.charge_point_id, patch);
      if (!charger) throw notFound('charger', 'charge_point_id');
      // A changed password must be presented again: drop the session that used the old one.
      if (password !== undefined || client_cert_required !== undefined) await deps.chargers.disconnect(charger.charge_point_id, 'credentials_changed');
      return view(charger);
    },
  );

  app.delete(
    '/api/v1/cpo/chargers/:charge_point_id',
    {
      config: write,
      schema: {
        tags: ['chargers'],
        summary: 'Delete a charger and its recorded history; its live connection is closed',
        params: Params,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const tenantId = tenantOf(req);
      await requireCharger(db, tenantId, req.params.charge_point_id);
      await deps.chargers.disconnect(req.params.charge_point_id, 'deregistered');
      if (!(await deleteCharger(db, tenantId, req.params.charge_point_id))) throw notFound('charger', 'charge_point_id');
      return reply.code(204).send(null);
    },
  );
}
