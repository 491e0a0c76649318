import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, spawnServer, type ServerProcess } from './support/cli.js';
import { apiClient } from './support/http.js';
import { ADMIN_KEY } from './support/service.js';
import { dbKind, freshPostgresUrl } from './support/database.js';
import { rawUpgradeStatus } from './support/raw-http.js';

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  return cond();
};

describe(`a real server process against hostile peers (${dbKind})`, () => {
  let server: ServerProcess;
  let port: number;
  let dir: string;
  let pg: Awaited<ReturnType<typeof freshPostgresUrl>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dynamo-hostile-'));
    pg = await freshPostgresUrl();
    server = await spawnServer({
      PORT: '0',
      DYNAMO_DATA_DIR: dir,
      DYNAMO_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'info',
      ...(pg ? { DATABASE_URL: pg.url } : {}),
    });
    port = Number(new URL(server.url).port);
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await pg?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('never writes an API key to the log, in any spelling of header, query or path', async () => {
    const admin = apiClient(server.url, ADMIN_KEY);
    const tenant = (await admin('POST', '/api/v1/admin/tenants', { body: { name: 'Logged' } })).body;
    const tenantKey: string = (await admin('POST', `/api/v1/admin/tenants/${tenant.tenant_id}/api-keys`, { body: { name: 'k' } })).body.key;
    const names = [
      'api_key', 'ap%69_key', '%61%70%69%5f%6b%65%79', 'key[]', 'key%5B%5D', 'key[0]', 'token[a]', 'API_KEY', 'apiKey', 'api-key',
      'token', 'access_token', 'x-api-key', 'ap%2569_key', 'password', 'secret', 'Authorization',
    ];
    const encode = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    let probe = 0;
    const probes: number[] = [];
    for (const key of [tenantKey, ADMIN_KEY]) {
      for (const name of names) {
        for (const value of [key, encode(key)]) {
          probes.push(++probe);
          await fetch(`${server.url}/api/v1/cpo/sites?probe=${probe}&${name}=${value}`, { headers: { authorization: `Bearer ${key}` } });
        }
      }
      probes.push(++probe);
      await fetch(`${server.url}/api/v1/cpo/sites?probe=${probe}`, { headers: { 'x-api-key': key } });
    }
    probes.push(++probe);
    await fetch(`${server.url}/api/v1/cpo/sites/${tenantKey}?probe=${probe}`, { headers: { authorization: `Bearer ${tenantKey}` } });

    // The test sees every request line: each probe was logged with its URL.
    expect(await waitFor(() => server.output().includes(`probe=${probe}`))).toBe(true);
    const lines = server.output().split('\n').filter((l) => l.includes('"incoming request"'));
    for (const p of probes) expect(lines.some((l) => l.includes(`?probe=${p}`)), `probe ${p}`).toBe(true);
    const out = server.output();
    for (const key of [tenantKey, ADMIN_KEY]) {
      expect(out).not.toContain(key);
      expect(out).not.toContain(encode(key));
      expect(out).not.toContain(encode(key).toUpperCase());
    }
    expect(lines.filter((l) => l.includes('[REDACTED]')).length).toBeGreaterThanOrEqual(names.length * 4);
  });

  it('logs wrong charger passwords at warn', async () => {
    const admin = apiClient(server.url, ADMIN_KEY);
    const tenant = (await admin('POST', '/api/v1/admin/tenants', { body: { name: 'Chargers' } })).body;
    const key = (await admin('POST', `/api/v1/admin/tenants/${tenant.tenant_id}/api-keys`, { body: { name: 'k' } })).body.key;
    const api = apiClient(server.url, key);
    const site = (await api('POST', '/api/v1/cpo/sites', { body: { name: 'S' } })).body.site_id;
    await api('POST', '/api/v1/cpo/chargers', { body: { charge_point_id: 'WARN-CP', site_id: site, password: 'right-password-123' } });
    expect((await rawUpgradeStatus(port, '/ocpp/WARN-CP', { basic: ['WARN-CP', 'guess-password-1'] })).status).toBe(401);
    expect(await waitFor(() => /"level":40[^\n]*WARN-CP[^\n]*wrong password/.test(server.output()))).toBe(true);
    expect(server.output()).not.toContain('guess-password-1');
  });
  // Last: on a build without the fix, the first malformed upgrade ends the process.
  it('refuses malformed OCPP upgrades with 400 and keeps running', async () => {
    for (const path of ['/ocpp/%FF', '/ocpp/%', '/ocpp/CP%E0%A4%A', '/ocpp/%00', '/ocpp/a%2F%FF']) {
      const r = await rawUpgradeStatus(port, path);
      expect(r.status, path).toBe(400);
    }
    // Garbage credentials and an unknown identity are answered, not thrown.
    expect((await rawUpgradeStatus(port, '/ocpp/NOBODY', { extra: 'Authorization: Basic !!!not-base64\r\n' })).status).toBe(404);
    expect((await rawUpgradeStatus(port, '/ocpp/NOBODY', { extra: 'Upgrade: h2c\r\n' })).status).toBe(400);
    expect(server.child.exitCode).toBeNull();
    expect((await apiClient(server.url)('GET', '/healthz')).status).toBe(200);
    expect(server.output()).not.toMatch(/unhandled|uncaught/i);
  });
});

/** Every directory under `dir` (itself included) and every file, with its permission bits. */
async function modes(dir: string): Promise<{ path: string; dir: boolean; mode: number }[]> {
  const out = [{ path: dir, dir: true, mode: (await lstat(dir)).mode & 0o777 }];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await modes(path)));
    else if (e.isFile()) out.push({ path, dir: false, mode: (await lstat(path)).mode & 0o777 });
  }
  return out;
}

describe('the embedded database files are owner-only whatever the umask (pglite, on every run)', () => {
  it('makes the data dir 0700 and every file under it 0600, started with umask 000 on a world-open dir', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dynamo-modes-'));
    const dir = join(root, 'data');
    try {
      // A data directory left world-open by an earlier version, with a world-readable file in it.
      await mkdir(join(dir, 'old'), { recursive: true });
      await writeFile(join(dir, 'old', 'leftover'), 'x');
      for (const p of [dir, join(dir, 'old')]) await chmod(p, 0o777);
      await chmod(join(dir, 'old', 'leftover'), 0o666);

      const child = spawn('/bin/sh', ['-c', 'umask 000 && exec "$0" "$@"', process.execPath, CLI, 'serve'], {
        env: { PATH: process.env.PATH!, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DYNAMO_DATA_DIR: dir },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise((r) => child.on('exit', r));
      expect(await waitFor(() => /listening on http/.test(out), 30_000), out).toBe(true);
      const url = /listening on (http\S+)/.exec(out)![1]!;
      // Make the database write while running, then stop it so shutdown files exist too.
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const running = await modes(dir);
      child.kill('SIGTERM');
      await exited;
      const stopped = await modes(dir);

      for (const all of [running, stopped]) {
        expect(all.filter((e) => e.dir).length).toBeGreaterThan(3);
        expect(all.filter((e) => !e.dir).length).toBeGreaterThan(10);
        const open = all.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600)).map((e) => `${e.path} ${e.mode.toString(8)}`);
        expect(open).toEqual([]);
      }
      expect(stopped.some((e) => e.path.endsWith('admin-key'))).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
