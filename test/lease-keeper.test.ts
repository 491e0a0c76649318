import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dbKind, freshPostgresUrl } from './support/database.js';
import { openDatabase } from '../src/store/open.js';
import { migrate } from '../src/store/migrate.js';
import { LeaseKeeper } from '../src/ingest/lease-keeper.js';
import { createLogger } from '../src/logger.js';
import type { Db } from '../src/store/db.js';

const leaseAt = async (db: Db, nodeId: string) =>
  (await db.query<{ lease_at: Date }>('SELECT lease_at FROM nodes WHERE node_id = $1', [nodeId]))[0]!.lease_at.getTime();

describe(`a node's lease (${dbKind})`, () => {
  let db: Db;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dynamo-lease-'));
    const pg = await freshPostgresUrl();
    const opened = await openDatabase({ databaseUrl: pg?.url, dataDir: dir, poolSize: 2 });
    db = opened.db;
    await migrate(db);
    cleanup = async () => {
      await opened.release();
      await pg?.drop();
      await rm(dir, { recursive: true, force: true });
    };
  });
  afterAll(() => cleanup?.());

  it('is renewed by the CALLs that check it when its timer does not run (a poll phase that starves timers)', async () => {
    // The renewal timer is faked and never advanced: as when libuv stays in its poll phase under load.
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const keeper = new LeaseKeeper(db, createLogger('silent'), { nodeId: 'node_lease_test', hostname: 'test', version: 'test', leaseTtlSec: 3 });
    try {
      await keeper.start();
      const registered = await leaseAt(db, 'node_lease_test');

      // Past the renewal period (1 s of a 3 s lease): a check finds the lease fresh and starts a renewal.
      vi.setSystemTime(Date.now() + 1_500);
      expect(keeper.fresh()).toBe(true);
      // Polled on real time (vi.waitFor would advance the faked timer and let it renew).
      for (let i = 0; i < 50 && (await leaseAt(db, 'node_lease_test')) <= registered; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await leaseAt(db, 'node_lease_test')).toBeGreaterThan(registered);

      // More than a lease after start but within one of that renewal: still fresh.
      vi.setSystemTime(Date.now() + 2_000);
      expect(keeper.fresh()).toBe(true);

      // Without renewals (the database unreachable is the same to the node): lapsed after a lease.
      await keeper.stop();
      vi.setSystemTime(Date.now() + 3_500);
      expect(keeper.fresh()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
