import { ADMIN_KEY } from './service.js';
import { apiClient, type Api } from './http.js';

let seq = 0;
export const uniqueId = (prefix = 'CP') => `${prefix}-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 6)}`;

export interface TenantFixture {
  tenantId: string;
  key: string;
  api: Api;
}

/** A tenant with an all-scopes API key, made through the admin API. */
export async function aTenant(baseUrl: string, name = 'Test CPO', scopes?: string[]): Promise<TenantFixture> {
  const admin = apiClient(baseUrl, ADMIN_KEY);
  const t = await admin('POST', '/api/v1/admin/tenants', { body: { name } });
  if (t.status !== 201) throw new Error(`tenant: ${t.status} ${JSON.stringify(t.body)}`);
  const k = await admin('POST', `/api/v1/admin/tenants/${t.body.tenant_id}/api-keys`, { body: { name: 'test', ...(scopes ? { scopes } : {}) } });
  if (k.status !== 201) throw new Error(`key: ${k.status} ${JSON.stringify(k.body)}`);
  return { tenantId: t.body.tenant_id, key: k.body.key, api: apiClient(baseUrl, k.body.key) };
}

export async function aSite(api: Api, fields: Record<string, unknown> = {}): Promise<string> {
  const r = await api('POST', '/api/v1/cpo/sites', { body: { name: 'Depot', ...fields } });
  if (r.status !== 201) throw new Error(`site: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.site_id;
}

export async function aCharger(
  api: Api,
  siteId: string,
  fields: { charge_point_id?: string; password?: string; lenient?: boolean; vendor?: string; model?: string } = {},
): Promise<string> {
  const id = fields.charge_point_id ?? uniqueId();
  const r = await api('POST', '/api/v1/cpo/chargers', { body: { site_id: siteId, ...fields, charge_point_id: id } });
  if (r.status !== 201) throw new Error(`charger: ${r.status} ${JSON.stringify(r.body)}`);
  return id;
}
