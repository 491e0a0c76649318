import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { RPCClient } from 'ocpp-rpc';
import { ADMIN_KEY, startTestService, type TestService } from './support/service.js';
import { dbKind } from './support/database.js';
import { postJson } from './support/https.js';

/** A throwaway self-signed certificate for localhost, made with the system's openssl. */
async function selfSigned(dir: string) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { key, cert };
}

describe(`OCPP Security Profile 2: TLS terminated by the service (${dbKind})`, () => {
  let svc: TestService;
  let certDir: string;
  let ca: Buffer;

  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'dynamo-tls-'));
    const { key, cert } = await selfSigned(certDir);
    ca = await readFile(cert);
    svc = await startTestService({ DYNAMO_TLS_CERT: cert, DYNAMO_TLS_KEY: key });
  });
  afterAll(async () => {
    await svc?.close();
    await rm(certDir, { recursive: true, force: true });
  });

  it('serves the API over https and OCPP over wss with Basic auth', async () => {
    expect(svc.url).toMatch(/^https:/);
    const health = await new Promise<number>((resolve, reject) =>
      https.get(`${svc.url}/healthz`, { ca }, (res) => resolve(res.statusCode ?? 0)).on('error', reject),
    );
    expect(health).toBe(200);

    // fetch cannot be given a CA, so the fixtures are made over https by hand.
    const post = (path: string, key: string, body: unknown) => postJson(`${svc.url}${path}`, ca, key, body);
    const tenant = await post('/api/v1/admin/tenants', ADMIN_KEY, { name: 'TLS' });
    const key = (await post(`/api/v1/admin/tenants/${tenant.tenant_id}/api-keys`, ADMIN_KEY, { name: 'k' })).key;
    const site = (await post('/api/v1/cpo/sites', key, { name: 'S' })).site_id;
    const cp = (await post('/api/v1/cpo/chargers', key, { charge_point_id: 'TLS-CP-1', site_id: site, password: 'a-secret-over-tls' })).charge_point_id;

    const charger = new RPCClient({ endpoint: svc.wsUrl.replace('ws:', 'wss:'), identity: cp, password: 'a-secret-over-tls', protocols: ['ocpp1.6'], reconnect: false, wsOpts: { ca } } as never);
    await charger.connect();
    expect(((await charger.call('Heartbeat', {})) as { currentTime: string }).currentTime).toBeTruthy();
    await charger.close();
  });
});
