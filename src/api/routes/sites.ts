import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { tenantOf } from '../auth.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { Nullable, PageFields, PageQuery, Timestamp, errors } from '../schemas/common.js';
import { createSite, deleteSite, getSite, listSites, updateSite, type Site } from '../../store/sites.js';

const Site = Type.Object({
  site_id: Type.String(),
  name: Type.String(),
  address: Nullable(Type.String()),
  lat: Nullable(Type.Number()),
  lng: Nullable(Type.Number()),
  timezone: Type.String({ description: 'IANA time zone of the site, e.g. Europe/London. Metrics stay in UTC.' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  address: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  lat: Type.Optional(Nullable(Type.Number({ minimum: -90, maximum: 90 }))),
  lng: Type.Optional(Nullable(Type.Number({ minimum: -180, maximum: 180 }))),
  timezone: Type.Optional(Type.String({ maxLength: 64, description: 'IANA time zone (default UTC).' })),
};
const Params = Type.Object({ site_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

function checkTimezone(tz: string | undefined): void {
  if (tz === undefined) return;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw badRequest('timezone', `"${tz}" is not an IANA time zone`);
  }
}

const view = ({ tenant_id: _t, ...site }: Site) => site;

export async function siteRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;
  const read = { auth: { role: 'tenant' as const, scope: 'read:sites' as const } };
  const write = { auth: { role: 'tenant' as const, scope: 'write:sites' as const } };

  app.post(
    '/api/v1/cpo/sites',
    {
      config: write,
      schema: {
        tags: ['sites'],
        summary: 'Create a site',
        body: Type.Object(fields, { additionalProperties: false }),
        response: { 201: Site, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      checkTimezone(req.body.timezone);
      return reply.code(201).send(view(await createSite(db, tenantOf(req), req.body)));
    },
  );

  app.get(
    '/api/v1/cpo/sites',
    {
      config: read,
      schema: {
        tags: ['sites'],
        summary: "List the tenant's sites",
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Type.Object({ sites: Type.Array(Site), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { rows, total } = await listSites(db, tenantOf(req), req.query);
      return { sites: rows.map(view), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/api/v1/cpo/sites/:site_id',
    { config: read, schema: { tags: ['sites'], summary: 'Get a site', params: Params, response: { 200: Site, ...errors(401, 403, 404) } } },
    async (req) => {
      const site = await getSite(db, tenantOf(req), req.params.site_id);
      if (!site) throw notFound('site', 'site_id');
      return view(site);
    },
  );

  app.patch(
    '/api/v1/cpo/sites/:site_id',
    {
      config: write,
      schema: {
        tags: ['sites'],
        summary: 'Update a site',
        params: Params,
        body: Type.Object({ ...fields, name: Type.Optional(fields.name) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: Site, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      checkTimezone(req.body.timezone);
      const site = await updateSite(db, tenantOf(req), req.params.site_id, req.body);
      if (!site) throw notFound('site', 'site_id');
      return view(site);
    },
  );

  app.delete(
    '/api/v1/cpo/sites/:site_id',
    {
      config: write,
      schema: {
        tags: ['sites'],
        summary: 'Delete a site that has no chargers',
        params: Params,
        response: { 204: Type.Null(), ...errors(401, 403, 404, 409) },
      },
    },
    async (req, reply) => {
      const result = await deleteSite(db, tenantOf(req), req.params.site_id).catch((err: { code?: string }) => {
        if (err.code === '23503') return 'has_chargers' as const; // a charger was added meanwhile
        throw err;
      });
      if (result === 'not_found') throw notFound('site', 'site_id');
      if (result === 'has_chargers') throw conflict('site_has_chargers', 'the site still has chargers; move or delete them first', 'site_id');
      return reply.code(204).send(null);
    },
  );
}

