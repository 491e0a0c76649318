import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestService, type TestService } from './support/service.js';
import { apiClient, type Api } from './support/http.js';
import { aSite, aTenant } from './support/builders.js';
import { dbKind } from './support/database.js';
import { eventually } from './support/history.js';

describe(`admin API (${dbKind})`, () => {
  let svc: TestService;
  let admin: Api;
  let anon: Api;

  beforeAll(async () => {
    svc = await startTestService();
    admin = apiClient(svc.url, ADMIN_KEY);
    anon = apiClient(svc.url);
  });
  afterAll(() => svc?.close());

  it('creates, lists and gets tenants', async () => {
    const created = await admin('POST', '/api/v1/admin/tenants', { body: { name: 'ACME Charging' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ACME Charging' });
    expect(created.body.tenant_id).toMatch(/^ten_[0-9A-Z]{26}$/);

    const got = await admin('GET', `/api/v1/admin/tenants/${created.body.tenant_id}`);
    expect(got.status).toBe(200);
    expect(got.body.name).toBe('ACME Charging');

    const list = await admin('GET', '/api/v1/admin/tenants?limit=1');
    expect(list.status).toBe(200);
    expect(list.body.tenants).toHaveLength(1);
    expect(list.body.total).toBeGreaterThanOrEqual(1);
    expect(list.body.limit).toBe(1);
  });

  it('rejects a tenant without a name, with the one error shape', async () => {
    const r = await admin('POST', '/api/v1/admin/tenants', { body: {} });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ status: 400, code: 'invalid_parameter', parameter: 'name' });
    expect(typeof r.body.error.message).toBe('string');
    expect(typeof r.body.error.request_id).toBe('string');
  });

  it('404s an unknown tenant', async () => {
    const r = await admin('GET', '/api/v1/admin/tenants/ten_NOPE');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
    const k = await admin('POST', '/api/v1/admin/tenants/ten_NOPE/api-keys', { body: { name: 'x' } });
    expect(k.status).toBe(404);
  });

  it('shows a key once, then only its prefix; a revoked key stops working', async () => {
    const t = await admin('POST', '/api/v1/admin/tenants', { body: { name: 'Keys Ltd' } });
    const created = await admin('POST', `/api/v1/admin/tenants/${t.body.tenant_id}/api-keys`, { body: { name: 'dashboard' } });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key.startsWith(created.body.prefix)).toBe(true);
    expect(created.body.scopes).toContain('read:charge_points');

    const listed = await admin('GET', `/api/v1/admin/tenants/${t.body.tenant_id}/api-keys`);
    expect(listed.status).toBe(200);
    expect(listed.body.api_keys).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(listed.body.api_keys[0].prefix).toBe(created.body.prefix);

    const tenantApi = apiClient(svc.url, key);
    expect((await tenantApi('GET', '/api/v1/cpo/sites')).status).toBe(200);
    const used = await eventually(
      () => admin('GET', `/api/v1/admin/tenants/${t.body.tenant_id}/api-keys`),
      (r) => r.body.api_keys[0].last_used_at !== null,
    );
    expect(Date.parse(used.body.api_keys[0].last_used_at)).toBeGreaterThan(Date.now() - 60_000);

    const revoked = await admin('DELETE', `/api/v1/admin/tenants/${t.body.tenant_id}/api-keys/${created.body.key_id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    const after = await tenantApi('GET', '/api/v1/cpo/sites');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');

    expect((await admin('DELETE', `/api/v1/admin/tenants/${t.body.tenant_id}/api-keys/key_NOPE`)).status).toBe(404);
  });

  it('answers 401 without a key and with a wrong key', async () => {
    expect((await anon('GET', '/api/v1/admin/tenants')).status).toBe(401);
    const wrong = await anon('GET', '/api/v1/admin/tenants', { key: 'dyn_key_not-a-real-key' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect((await anon('GET', '/api/v1/cpo/sites', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
  });

  it('accepts X-API-Key and refuses a key in the query string', async () => {
    const t = await aTenant(svc.url);
    const viaHeader = await anon('GET', '/api/v1/cpo/sites', { headers: { 'x-api-key': t.key } });
    expect(viaHeader.status).toBe(200);
    const viaQuery = await anon('GET', `/api/v1/cpo/sites?api_key=${t.key}`);
    expect(viaQuery.status).toBe(400);
    expect(viaQuery.body.error).toMatchObject({ code: 'key_in_query', parameter: 'api_key' });
  });

  it('keeps admin and tenant powers apart', async () => {
    const t = await aTenant(svc.url);
    const tenantOnAdmin = await t.api('GET', '/api/v1/admin/tenants');
    expect(tenantOnAdmin.status).toBe(403);
    expect(tenantOnAdmin.body.error.code).toBe('admin_only');
    const adminOnFleet = await admin('GET', '/api/v1/cpo/sites');
    expect(adminOnFleet.status).toBe(403);
    expect(adminOnFleet.body.error.code).toBe('tenant_key_required');
  });

  it('enforces scopes: a read-only key cannot write (403)', async () => {
    const t = await aTenant(svc.url, 'Readers', ['read:sites', 'read:charge_points']);
    expect((await t.api('GET', '/api/v1/cpo/sites')).status).toBe(200);
    const write = await t.api('POST', '/api/v1/cpo/sites', { body: { name: 'x' } });
    expect(write.status).toBe(403);
    expect(write.body.error.code).toBe('missing_scope');
    const bad = await admin('POST', `/api/v1/admin/tenants/${t.tenantId}/api-keys`, { body: { name: 'x', scopes: ['root'] } });
    expect(bad.status).toBe(400);
  });

  it('uses the admin key from DYNAMO_ADMIN_KEY, not a generated one', async () => {
    expect(svc.service.adminKey.source).toBe('environment');
    // And a tenant site made by a tenant is invisible to the admin key (no fleet powers).
    const t = await aTenant(svc.url);
    await aSite(t.api);
    expect((await admin('GET', '/api/v1/cpo/sites')).status).toBe(403);
  });
});
