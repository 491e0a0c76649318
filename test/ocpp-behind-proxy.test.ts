import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upgradeStatus } from './support/charger.js';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { dbKind } from './support/database.js';
import { pki } from './support/pki.js';
import { ConfigError, loadConfig } from '../src/config.js';

/**
 * OCPP Security Profiles 2 and 3 behind a TLS-terminating proxy (docs/operations.md "Load
 * balancer"): the proxy verifies the client certificate and forwards it in a header, as nginx
 * ($ssl_client_escaped_cert: URL-encoded PEM) or HAProxy (%[ssl_c_der,base64]) do.
 */
describe(`OCPP behind a TLS-terminating proxy: the forwarded client certificate (${dbKind})`, () => {
  let svc: TestService;
  let dir: string;
  let password: string;
  const pem = async (n: string) => String(await readFile(join(dir, `${n}.pem`)));
  const nginxStyle = async (n: string) => encodeURIComponent(await pem(n));
  const haproxyStyle = async (n: string) => new X509Certificate(await pem(n)).raw.toString('base64');
  const upgrade = (identity: string, headers: Record<string, string>) => upgradeStatus(`${svc.wsUrl}/${identity}`, ['ocpp1.6'], headers);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dynamo-proxy-pki-'));
    pki(dir);
    svc = await startTestService({ DYNAMO_TRUST_PROXY: 'true', DYNAMO_CLIENT_CERT_HEADER: 'X-Client-Cert', DYNAMO_TLS_CA: join(dir, 'ca.pem') });
    const t = await aTenant(svc.url);
    const site = await aSite(t.api);
    await t.api('POST', '/api/v1/cpo/chargers', { body: { charge_point_id: 'CP3-CERT', site_id: site, client_cert_required: true } });
    password = 'profile-two-behind-proxy';
    await aCharger(t.api, site, { charge_point_id: 'CP2-PASSWORD', password });
  });
  afterAll(async () => {
    await svc?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('admits a Profile 3 charger whose certificate the proxy forwards, as nginx or as HAProxy send it', async () => {
    expect(await upgrade('CP3-CERT', { 'x-client-cert': await nginxStyle('cp3') })).toBe(101);
    expect(await upgrade('CP3-CERT', { 'x-client-cert': await haproxyStyle('cp3') })).toBe(101);
  });

  it("refuses no certificate, another identity's, one another CA signed, and a header that is not a certificate (401)", async () => {
    expect(await upgrade('CP3-CERT', {})).toBe(401);
    expect(await upgrade('CP3-CERT', { 'x-client-cert': await nginxStyle('other') })).toBe(401);
    expect(await upgrade('CP3-CERT', { 'x-client-cert': await nginxStyle('forged') })).toBe(401);
    expect(await upgrade('CP3-CERT', { 'x-client-cert': 'CN=CP3-CERT' })).toBe(401);
  });

  it('serves Profile 2 chargers (Basic password, which the proxy passes on) beside them', async () => {
    const basic = (p: string) => ({ authorization: `Basic ${Buffer.from(`CP2-PASSWORD:${p}`).toString('base64')}` });
    expect(await upgrade('CP2-PASSWORD', basic(password))).toBe(101);
    expect(await upgrade('CP2-PASSWORD', basic('not-the-password'))).toBe(401);
  });

  it('trusts the header only from a proxy (DYNAMO_TRUST_PROXY) and checks it against DYNAMO_TLS_CA', () => {
    const base = { DYNAMO_CLIENT_CERT_HEADER: 'x-client-cert', DYNAMO_TLS_CA: join(dir, 'ca.pem') };
    expect(() => loadConfig(base)).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, DYNAMO_TRUST_PROXY: 'true', DYNAMO_TLS_CA: '' })).toThrow(/DYNAMO_TLS_CA/);
    expect(() => loadConfig({ ...base, DYNAMO_TRUST_PROXY: 'true', DYNAMO_CLIENT_CERT_HEADER: 'bad header' })).toThrow(/HTTP header name/);
    expect(loadConfig({ ...base, DYNAMO_TRUST_PROXY: 'true' }).clientCertHeader).toBe('x-client-cert');
  });
});
