import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgres } from '../src/store/postgres.js';
import { loadConfig } from '../src/config.js';
import { TEST_PG_URL, dbKind } from './support/database.js';

const backendPid = async (db: Awaited<ReturnType<typeof openPostgres>>) => (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;

/** The embedded database has no pool: PostgreSQL only. */
describe.skipIf(dbKind !== 'postgres')('the PostgreSQL pool through a lull', () => {
  it('by default keeps its connections: after a lull longer than pg\'s own 10 s the same backend answers', { timeout: 20_000 }, async () => {
    expect(loadConfig({}).dbIdleTimeoutMs).toBe(0);
    expect(loadConfig({ DYNAMO_DB_IDLE_TIMEOUT: '0' }).dbIdleTimeoutMs).toBe(0);
    const db = await openPostgres({ url: TEST_PG_URL!, poolSize: 1, idleTimeoutMs: loadConfig({}).dbIdleTimeoutMs });
    try {
      const before = await backendPid(db);
      await sleep(10_500);
      expect(await backendPid(db)).toBe(before);
    } finally {
      await db.close();
    }
  });

  it('closes connections idle past DYNAMO_DB_IDLE_TIMEOUT when one is set', async () => {
    expect(loadConfig({ DYNAMO_DB_IDLE_TIMEOUT: '30' }).dbIdleTimeoutMs).toBe(30_000);
    expect(() => loadConfig({ DYNAMO_DB_IDLE_TIMEOUT: '-1' })).toThrow(/DYNAMO_DB_IDLE_TIMEOUT/);
    const db = await openPostgres({ url: TEST_PG_URL!, poolSize: 1, idleTimeoutMs: 100 });
    const observer = await openPostgres({ url: TEST_PG_URL!, poolSize: 1 });
    try {
      const before = await backendPid(db);
      await sleep(400);
      const alive = await observer.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [before]);
      expect(alive[0]!.n).toBe(0);
      expect(await backendPid(db)).not.toBe(before);
    } finally {
      await Promise.all([db.close(), observer.close()]);
    }
  });

  it('replaces a kept connection the server closed while it sat idle (idle_session_timeout, a proxy, a restart)', async () => {
    const db = await openPostgres({ url: TEST_PG_URL!, poolSize: 1 });
    const observer = await openPostgres({ url: TEST_PG_URL!, poolSize: 1 });
    try {
      const before = await backendPid(db);
      await observer.query('SELECT pg_terminate_backend($1)', [before]);
      // The server is done with it; the pool learns of it from the socket, on its own.
      for (let i = 0; i < 50; i++) {
        const [row] = await observer.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [before]);
        if (row!.n === 0) break;
        await sleep(20);
      }
      await sleep(100);
      expect(await backendPid(db)).not.toBe(before);
    } finally {
      await Promise.all([db.close(), observer.close()]);
    }
  });
});
