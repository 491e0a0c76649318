import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upgradeStatus } from './support/charger.js';
import { ADMIN_KEY, startTestService, type TestService } from './support/service.js';
import { dbKind } from './support/database.js';
import { postJson } from './support/https.js';
import { pki } from './support/pki.js';

describe(`OCPP Security Profile 3: client certificates (${dbKind})`, () => {
  let svc: TestService;
  let dir: string;
  let ca: Buffer;
  const file = (n: string) => readFile(join(dir, n));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dynamo-pki-'));
    pki(dir);
    ca = await file('ca.pem');
    svc = await startTestService({ DYNAMO_TLS_CERT: join(dir, 'server.pem'), DYNAMO_TLS_KEY: join(dir, 'server.key'), DYNAMO_TLS_CA: join(dir, 'ca.pem') });
    const post = (path: string, key: string, body: unknown) => postJson(`${svc.url}${path}`, ca, key, body);
    const tenant = await post('/api/v1/admin/tenants', ADMIN_KEY, { name: 'PKI' });
    const key = (await post(`/api/v1/admin/tenants/${tenant.tenant_id}/api-keys`, ADMIN_KEY, { name: 'k' })).key;
    const site = (await post('/api/v1/cpo/sites', key, { name: 'S' })).site_id;
    await post('/api/v1/cpo/chargers', key, { charge_point_id: 'CP3-CERT', site_id: site, client_cert_required: true });
    await post('/api/v1/cpo/chargers', key, { charge_point_id: 'CP2-PASSWORD', site_id: site, password: 'profile-two-secret' });
  });
  afterAll(async () => {
    await svc?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const upgrade = async (identity: string, opts: { cert?: string; auth?: string } = {}) =>
    upgradeStatus(
      `${svc.wsUrl.replace('ws:', 'wss:')}/${identity}`,
      ['ocpp2.0.1'],
      opts.auth ? { authorization: `Basic ${Buffer.from(`${identity}:${opts.auth}`).toString('base64')}` } : {},
      { ca, ...(opts.cert ? { cert: await file(`${opts.cert}.pem`), key: await file(`${opts.cert}.key`) } : {}) },
    );

  it('admits a charger presenting a certificate for its identity from the configured CA', async () => {
    expect(await upgrade('CP3-CERT', { cert: 'cp3' })).toBe(101);
  });

  it('refuses it without a certificate, with another identity\'s certificate, or one from another CA (401)', async () => {
    expect(await upgrade('CP3-CERT')).toBe(401);
    expect(await upgrade('CP3-CERT', { cert: 'other' })).toBe(401);
    expect(await upgrade('CP3-CERT', { cert: 'forged' })).toBe(401);
  });

  it('still serves Security Profile 2 chargers (password, no certificate) on the same endpoint', async () => {
    expect(await upgrade('CP2-PASSWORD', { auth: 'profile-two-secret' })).toBe(101);
    expect(await upgrade('CP2-PASSWORD', { auth: 'wrong-secret-123' })).toBe(401);
  });
});
