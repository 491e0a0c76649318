import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { ALL_SCOPES } from '../auth.js';
import { notFound } from '../errors.js';
import { PageFields, PageQuery, Timestamp, NullableTimestamp, errors } from '../schemas/common.js';
import { createTenant, getTenant, listTenants } from '../../store/tenants.js';
import { setTenantMessageLog } from '../../store/message-log.js';
import { insertApiKey, listApiKeys, revokeApiKey, type ApiKeyRecord } from '../../store/api-keys.js';
import { generateApiKey, hashApiKey } from '../../security/secrets.js';

const Tenant = Type.Object({
  tenant_id: Type.String(),
  name: Type.String(),
  created_at: Timestamp,
  message_log: Type.Boolean({ description: 'Whether the raw OCPP message log keeps this tenant\'s frames (default true).' }),
});
const TenantParams = Type.Object({ tenant_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
const Scopes = Type.Array(Type.Union(ALL_SCOPES.map((s) => Type.Literal(s))), { uniqueItems: true });
const ApiKey = Type.Object({
  key_id: Type.String(),
  tenant_id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to tell keys apart.' }),
  scopes: Type.Array(Type.String()),
  created_at: Timestamp,
  revoked_at: NullableTimestamp,
  last_used_at: NullableTimestamp,
});
const Name = Type.String({ minLength: 1, maxLength: 200 });

const admin = { auth: { role: 'admin' as const } };

const keyView = (k: ApiKeyRecord) => ({ ...k, scopes: [...k.scopes] });

export async function adminRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;

  app.post(
    '/api/v1/admin/tenants',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Create a tenant (a CPO organisation)',
        body: Type.Object({ name: Name }, { additionalProperties: false }),
        response: { 201: Tenant, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => reply.code(201).send(await createTenant(db, req.body.name.trim())),
  );

  app.get(
    '/api/v1/admin/tenants',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'List tenants',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Type.Object({ tenants: Type.Array(Tenant), ...PageFields }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { rows, total } = await listTenants(db, req.query);
      return { tenants: rows, total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/api/v1/admin/tenants/:tenant_id',
    {
      config: admin,
      schema: { tags: ['admin'], summary: 'Get a tenant', params: TenantParams, response: { 200: Tenant, ...errors(401, 403, 404) } },
    },
    async (req) => {
      const tenant = await getTenant(db, req.params.tenant_id);
      if (!tenant) throw notFound('tenant', 'tenant_id');
      return tenant;
    },
  );

  app.patch(
    '/api/v1/admin/tenants/:tenant_id',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Switch a tenant\'s raw OCPP message log on or off (applies to the next frames written)',
        params: TenantParams,
        body: Type.Object({ message_log: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: Tenant, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      if (!(await setTenantMessageLog(db, req.params.tenant_id, req.body.message_log))) throw notFound('tenant', 'tenant_id');
      return (await getTenant(db, req.params.tenant_id))!;
    },
  );

  app.post(
    '/api/v1/admin/tenants/:tenant_id/api-keys',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Create an API key for a tenant; the key is shown only in this response',
        params: TenantParams,
        body: Type.Object(
          { name: Name, scopes: Type.Optional({ ...Scopes, description: 'Defaults to every scope.' }) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ ...ApiKey.properties, key: Type.String({ description: 'The secret; store it now.' }) }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      if (!(await getTenant(db, req.params.tenant_id))) throw notFound('tenant', 'tenant_id');
      const { key, prefix } = generateApiKey('tenant');
      const record = await insertApiKey(db, {
        tenantId: req.params.tenant_id,
        name: req.body.name.trim(),
        prefix,
        keyHash: hashApiKey(key),
        scopes: req.body.scopes ?? [...ALL_SCOPES],
      });
      return reply.code(201).send({ ...keyView(record), key });
    },
  );

  app.get(
    '/api/v1/admin/tenants/:tenant_id/api-keys',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: "List a tenant's API keys (prefixes only, never the secrets)",
        params: TenantParams,
        response: { 200: Type.Object({ api_keys: Type.Array(ApiKey), total: Type.Integer() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      if (!(await getTenant(db, req.params.tenant_id))) throw notFound('tenant', 'tenant_id');
      const keys = await listApiKeys(db, req.params.tenant_id);
      return { api_keys: keys.map(keyView), total: keys.length };
    },
  );

  app.delete(
    '/api/v1/admin/tenants/:tenant_id/api-keys/:key_id',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Revoke an API key; it stops working at once',
        params: Type.Object({ tenant_id: Type.String({ maxLength: 64 }), key_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        response: { 200: ApiKey, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const revoked = await revokeApiKey(db, req.params.tenant_id, req.params.key_id);
      if (!revoked) throw notFound('API key', 'key_id');
      return keyView(revoked);
    },
  );
}
