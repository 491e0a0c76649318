import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { dbKind } from './support/database.js';
import { eventually, history } from './support/history.js';
import { pki } from './support/pki.js';

const HAPROXY = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';
const EXAMPLE = new URL('../docs/examples/haproxy.cfg', import.meta.url);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/**
 * The HAProxy configuration of docs/examples/haproxy.cfg, run for real (Debian's haproxy; .ci/run
 * installs it) in front of the service, with only addresses and file paths changed: TLS ends at
 * HAProxy, Security Profile 2 passwords and Profile 3 client certificates reach Dynamo behind it.
 */
describe(`the documented HAProxy configuration in front of Dynamo (${dbKind})`, () => {
  let svc: TestService;
  let dir: string;
  let haproxy: ChildProcess;
  let port: number;
  let ca: Buffer;
  const file = (n: string) => readFile(join(dir, n));

  /** Opens wss://…/ocpp/<identity> through HAProxy: the HTTP status of the upgrade, and the socket when accepted. */
  const open = async (identity: string, o: { cert?: string; password?: string; headers?: Record<string, string> } = {}) => {
    const headers = { ...(o.headers ?? {}), ...(o.password ? { authorization: `Basic ${Buffer.from(`${identity}:${o.password}`).toString('base64')}` } : {}) };
    const tls = o.cert ? { cert: await file(`${o.cert}.pem`), key: await file(`${o.cert}.key`) } : {};
    return new Promise<{ status: number; ws?: WebSocket; error?: string }>((resolve) => {
      const ws = new WebSocket(`wss://localhost:${port}/ocpp/${identity}`, ['ocpp1.6'], { ca, headers, ...tls });
      ws.once('open', () => resolve({ status: 101, ws }));
      ws.once('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? 0 });
        ws.terminate();
      });
      ws.once('error', (err) => resolve({ status: 0, error: String(err) }));
    });
  };
  const call = (ws: WebSocket, action: string, payload: unknown) =>
    new Promise<unknown[]>((resolve) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d))));
      ws.send(JSON.stringify([2, 'm1', action, payload]));
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dynamo-haproxy-'));
    pki(dir);
    ca = await file('ca.pem');
    await writeFile(join(dir, 'csms.pem'), Buffer.concat([await file('server.pem'), await file('server.key')]));
    svc = await startTestService({ DYNAMO_TRUST_PROXY: 'true', DYNAMO_CLIENT_CERT_HEADER: 'x-client-cert', DYNAMO_TLS_CA: join(dir, 'ca.pem') });
    const t = await aTenant(svc.url);
    const site = await aSite(t.api);
    await t.api('POST', '/api/v1/cpo/chargers', { body: { charge_point_id: 'CP3-CERT', site_id: site, client_cert_required: true } });
    await aCharger(t.api, site, { charge_point_id: 'CP2-PASSWORD', password: 'profile-two-through-haproxy' });

    port = await freePort();
    const cfg = String(await readFile(EXAMPLE))
      .replace(/maxconn 200000/, 'maxconn 1000')
      .replace(/maxconn 30000/, 'maxconn 500')
      .replace('bind :443', `bind 127.0.0.1:${port}`)
      .replaceAll('/etc/haproxy/csms.pem', join(dir, 'csms.pem'))
      .replaceAll('/etc/haproxy/charger-ca.pem', join(dir, 'ca.pem'))
      .replace(/(    server node\d .*\n)+/, `    server node1 127.0.0.1:${svc.service.port}\n`);
    await writeFile(join(dir, 'haproxy.cfg'), cfg);
    let out = '';
    haproxy = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')]);
    haproxy.stdout!.on('data', (d) => (out += d));
    haproxy.stderr!.on('data', (d) => (out += d));
    haproxy.once('error', (err) => (out += `${err} (install Debian's haproxy; .ci/run does)`));
    await eventually(
      () => new Promise<boolean>((r) => tcpConnect(port, '127.0.0.1').once('connect', function (this: any) { this.destroy(); r(true); }).once('error', () => r(false))),
      (up) => up || haproxy.exitCode !== null || /install Debian/.test(out),
      15_000,
    );
    if (haproxy.exitCode !== null || /install Debian/.test(out)) throw new Error(`haproxy did not start:\n${out}`);
    // Wait for the health check (GET /readyz) to put the node in rotation.
    await eventually(async () => (await open('CP2-PASSWORD', { password: 'profile-two-through-haproxy' })).status, (s) => s === 101, 15_000);
  }, 120_000);

  afterAll(async () => {
    if (haproxy && haproxy.exitCode === null) {
      haproxy.kill('SIGTERM');
      await new Promise((r) => haproxy.once('exit', r));
    }
    await svc?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries OCPP over wss for a Security Profile 2 charger: its password reaches Dynamo, a wrong one is refused', async () => {
    const ok = await open('CP2-PASSWORD', { password: 'profile-two-through-haproxy' });
    expect(ok.status).toBe(101);
    expect(ok.ws!.protocol).toBe('ocpp1.6');
    const answer = await call(ok.ws!, 'Heartbeat', {});
    expect(answer[0]).toBe(3);
    ok.ws!.close();
    expect((await open('CP2-PASSWORD', { password: 'a-wrong-password-1' })).status).toBe(401);
  });

  it('admits a Security Profile 3 charger by the client certificate HAProxy verified and forwarded', async () => {
    const ok = await open('CP3-CERT', { cert: 'cp3' });
    expect(ok.status).toBe(101);
    ok.ws!.close();
    expect((await open('CP3-CERT')).status).toBe(401);
    expect((await open('CP3-CERT', { cert: 'other' })).status).toBe(401);
    // A certificate from another CA does not get through TLS at all.
    expect((await open('CP3-CERT', { cert: 'forged' })).status).not.toBe(101);
  });

  it('drops what a client sends as X-Client-Cert or X-Forwarded-For itself', async () => {
    const pem = encodeURIComponent(String(await file('cp3.pem')));
    expect((await open('CP3-CERT', { headers: { 'x-client-cert': pem } })).status).toBe(401);
    const spoofed = await open('CP2-PASSWORD', { password: 'profile-two-through-haproxy', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(spoofed.status).toBe(101);
    await call(spoofed.ws!, 'Heartbeat', {});
    const rows = await eventually(() => history(svc.service.db).connections('CP2-PASSWORD'), (r) => r.length >= 3);
    expect(rows.at(-1)!.remote_address).toBe('127.0.0.1');
    spoofed.ws!.close();
  });
});
