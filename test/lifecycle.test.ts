import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, spawnServer } from './support/cli.js';
import { apiClient } from './support/http.js';
import { dbKind, freshPostgresUrl } from './support/database.js';
import { openDatabase } from '../src/store/open.js';
import { startTestService } from './support/service.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { isoAgo, rawCharger, upgradeStatus } from './support/charger.js';
import { history } from './support/history.js';

/** One database per scenario: a fresh PostgreSQL database on PG runs, a fresh data dir always. */
async function scenarioEnv(): Promise<{ env: Record<string, string>; dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dynamo-life-'));
  const pg = await freshPostgresUrl();
  return {
    env: { DYNAMO_DATA_DIR: dir, ...(pg ? { DATABASE_URL: pg.url } : {}) },
    dir,
    cleanup: async () => {
      await pg?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe(`process lifecycle and CLI (${dbKind})`, { timeout: 180_000 }, () => {
  let scenario: Awaited<ReturnType<typeof scenarioEnv>>;
  beforeAll(async () => {
    scenario = await scenarioEnv();
  });
  afterAll(() => scenario?.cleanup());

  it('stops with exit 1 and a one-line reason naming the variable on bad configuration', async () => {
    for (const [name, value] of [['PORT', 'eighty'], ['DYNAMO_HEARTBEAT_INTERVAL', '0'], ['DATABASE_URL', 'mysql://x'], ['LOG_LEVEL', 'loud']]) {
      const r = await runCli(['serve'], { ...scenario.env, [name!]: value! });
      expect(r.code, name).toBe(1);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr).toContain(name!);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('ends with one clear line for an unreachable database or an unwritable data dir', async () => {
    const db = await runCli(['serve'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere', DYNAMO_DATA_DIR: scenario.dir });
    expect(db.code).toBe(1);
    expect(db.stderr).toMatch(/^dynamo: cannot reach PostgreSQL at 127\.0\.0\.1:1\/nowhere/);
    expect(db.stderr.trim().split('\n')).toHaveLength(1);

    // Tests run as root here, so permissions cannot make a directory unwritable: a file in the way does.
    const inTheWay = join(scenario.dir, 'a-file');
    await writeFile(inTheWay, '');
    const dir = await runCli(['serve'], { DYNAMO_DATA_DIR: join(inTheWay, 'data') });
    expect(dir.code).toBe(1);
    expect(dir.stderr).toMatch(/data directory .* is not writable/);
    expect(dir.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('ends with one clear line when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['serve'], { ...scenario.env, PORT: String(port), HOST: '127.0.0.1', DYNAMO_ADMIN_KEY: 'x'.repeat(32) });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${port} is already in use`);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      blocker.close();
    }
  });

  it('generates an admin key at first start, stores only its hash, writes it once with mode 0600, and stops on SIGTERM with exit 0', async () => {
    const s = await scenarioEnv();
    try {
      const server = await spawnServer({ ...s.env, PORT: '0' });
      const keyFile = join(s.dir, 'admin-key');
      expect(server.output()).toContain(keyFile);
      const key = (await readFile(keyFile, 'utf8')).trim();
      expect(server.output()).not.toContain(key);
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      const admin = apiClient(server.url, key);
      expect((await admin('POST', '/api/v1/admin/tenants', { body: { name: 'Boot' } })).status).toBe(201);

      const t0 = Date.now();
      server.child.kill('SIGTERM');
      const exit = await server.exited;
      expect(exit.code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);

      // Second start: the stored hash is kept, the file is not rewritten, the same key still works.
      const again = await spawnServer({ ...s.env, PORT: '0' });
      expect(again.output()).not.toContain('generated');
      expect((await readFile(keyFile, 'utf8')).trim()).toBe(key);
      expect((await apiClient(again.url, key)('GET', '/api/v1/admin/tenants')).body.total).toBe(1);
      again.child.kill('SIGINT');
      expect((await again.exited).code).toBe(0);

      // Only the hash is in the database.
      const { db, release } = await openDatabase({ databaseUrl: s.env.DATABASE_URL, dataDir: s.dir, poolSize: 2 });
      const rows = await db.query<{ value: string }>("SELECT value FROM service_settings WHERE key = 'admin_key_sha256'");
      await release();
      expect(rows[0]!.value).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[0]!.value).not.toContain(key);
    } finally {
      await s.cleanup();
    }
  });

  it('runs migrate, tenants create, keys create and version from the CLI', async () => {
    const m = await runCli(['migrate'], scenario.env);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/schema (up to date )?at version \d+|applied/);
    const again = await runCli(['migrate'], scenario.env);
    expect(again.stdout).toMatch(/schema up to date at version \d+/);

    const t = await runCli(['tenants', 'create', 'CLI Tenant'], scenario.env);
    expect(t.code, t.stderr).toBe(0);
    const tenantId = t.stdout.trim();
    expect(tenantId).toMatch(/^ten_[0-9A-Z]{26}$/);

    const k = await runCli(['keys', 'create', '--tenant', tenantId], scenario.env);
    expect(k.code, k.stderr).toBe(0);
    expect(k.stdout.trim()).toMatch(/^dyn_key_[A-Za-z0-9_-]{43}$/);

    const missing = await runCli(['keys', 'create', '--tenant', 'ten_NOPE'], scenario.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no tenant ten_NOPE');

    const v = await runCli(['version'], {});
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runCli(['keys', 'create', '--help'], {});
    expect(help.stdout).toContain('--tenant');
  });

  it('refuses a database whose schema is newer than the code', async () => {
    await runCli(['migrate'], scenario.env);
    const { db, release } = await openDatabase({ databaseUrl: scenario.env.DATABASE_URL, dataDir: scenario.dir, poolSize: 2 });
    await db.query("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')");
    await release();
    const r = await runCli(['migrate'], scenario.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('schema is at version 9999');
    const s = await runCli(['serve'], { ...scenario.env, PORT: '0' });
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('run a newer Dynamo build');
  });
});

describe(`OCPP graceful shutdown (${dbKind})`, { timeout: 120_000 }, () => {
  /**
   * A charger connected, then shutdown begins (restart = stop, then start on the same
   * database), and at once the charger sends a CALL and another charger tries to connect.
   */
  async function shutdownWithLateTraffic() {
    const svc = await startTestService();
    const t = await aTenant(svc.url);
    const site = await aSite(t.api);
    const id = await aCharger(t.api, site);
    const latecomer = await aCharger(t.api, site);
    const c = await rawCharger(`${svc.wsUrl}/${id}`);
    const frames: unknown[][] = [];
    c.ws.on('message', (data) => frames.push(JSON.parse(String(data))));
    c.send([2, 'before', 'StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: isoAgo(1000) }]);
    expect((await c.next())[1]).toBe('before');

    const restarted = svc.restart();
    c.send([2, 'after', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: new Date().toISOString() }]);
    const upgrade = await upgradeStatus(`${svc.wsUrl}/${latecomer}`, ['ocpp1.6']).catch((err: Error) => `not connected: ${err.message}`);
    const closeCode = (await c.closed).code;
    await restarted;
    return { svc, id, latecomer, frames, upgrade, closeCode, h: history(svc.service.db) };
  }

  it('records server_shutdown for every open connection and refuses connections once shutdown began', async () => {
    const s = await shutdownWithLateTraffic();
    try {
      expect(s.closeCode).toBe(1001);
      expect(s.upgrade).not.toBe(101);
      expect(await s.h.connections(s.latecomer)).toEqual([]);
      const rows = await s.h.connections(s.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.disconnect_reason).toBe('server_shutdown');
      expect(await s.h.sessions(s.id)).toHaveLength(1);
    } finally {
      await s.svc.close();
    }
  });

  // The disconnect is recorded first and the sockets close after: in between, a CALL must get no answer and store nothing.
  it('answers nothing after shutdown began: a CALL that arrives then is neither answered nor stored', async () => {
    const s = await shutdownWithLateTraffic();
    try {
      expect.soft(s.frames.filter((f) => f[1] === 'after'), 'answers to the CALL sent after shutdown began').toEqual([]);
      expect.soft(await s.h.statusEvents(s.id), 'what that CALL stored').toEqual([]);
    } finally {
      await s.svc.close();
    }
  });
});
