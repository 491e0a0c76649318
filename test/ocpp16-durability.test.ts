import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from './support/cli.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { connectCharger, type ChargerClient } from './support/charger.js';
import { dbKind, freshPostgresUrl } from './support/database.js';
import { ADMIN_KEY } from './support/service.js';
import { openDatabase } from '../src/store/open.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`durability: SIGKILL loses nothing acknowledged, and crash recovery closes the dead node's connections (${dbKind})`, () => {
  it('every answered StartTransaction survives kill -9; the open intervals are closed at the last lease', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dynamo-kill-'));
    const pg = await freshPostgresUrl();
    const env = { DYNAMO_DATA_DIR: dir, DYNAMO_ADMIN_KEY: ADMIN_KEY, DYNAMO_LEASE_TTL: '3', PORT: '0', ...(pg ? { DATABASE_URL: pg.url } : {}) };
    try {
      const a = await spawnServer(env);
      const t = await aTenant(a.url);
      const site = await aSite(t.api);
      const ids = await Promise.all(Array.from({ length: 10 }, () => aCharger(t.api, site)));
      const wsUrl = `${a.url.replace('http', 'ws')}/ocpp`;
      const chargers: ChargerClient[] = await Promise.all(ids.map((id) => connectCharger(wsUrl, id)));

      const answered: { cp: string; transactionId: number; meterStart: number }[] = [];
      let killed = false;
      const load = chargers.map(async (c, i) => {
        for (let n = 0; !killed; n++) {
          const meterStart = i * 1_000_000 + n;
          try {
            const r = await c.call('StartTransaction', { connectorId: 1 + (n % 2), idTag: 'K', meterStart, timestamp: new Date().toISOString() });
            answered.push({ cp: ids[i]!, transactionId: r.transactionId, meterStart });
          } catch {
            return; // the server died under this call: unanswered, so no promise was made
          }
        }
      });
      await sleep(1500);
      const killedAt = Date.now();
      killed = true;
      a.child.kill('SIGKILL');
      await a.exited;
      await Promise.all(load);
      await Promise.all(chargers.map((c) => c.close({ force: true }).catch(() => {})));
      expect(answered.length).toBeGreaterThan(20);

      // Restart on the same database; wait past the lease TTL so recovery closes the dead node's intervals.
      const b = await spawnServer(env);
      await sleep(4500);
      b.child.kill('SIGTERM');
      expect((await b.exited).code).toBe(0);

      const { db, release } = await openDatabase({ databaseUrl: pg?.url, dataDir: dir, poolSize: 2 });
      try {
        const sessions = await db.query<{ charge_point_id: string; transaction_id: string; meter_start_wh: number }>(
          'SELECT charge_point_id, transaction_id, meter_start_wh FROM sessions',
        );
        const stored = new Set(sessions.map((s) => `${s.charge_point_id}/${s.transaction_id}/${s.meter_start_wh}`));
        const lost = answered.filter((x) => !stored.has(`${x.cp}/${x.transactionId}/${x.meterStart}`));
        expect(lost).toEqual([]);

        const conns = await db.query<{ disconnected_at: Date | null; disconnect_reason: string | null }>('SELECT disconnected_at, disconnect_reason FROM connections');
        expect(conns).toHaveLength(10);
        for (const c of conns) {
          expect(c.disconnect_reason).toBe('crash_recovery');
          // At the dead node's last lease: before the kill, and at most one renewal period (1 s) earlier.
          expect(c.disconnected_at!.getTime()).toBeLessThanOrEqual(killedAt + 50);
          expect(c.disconnected_at!.getTime()).toBeGreaterThan(killedAt - 2_000);
        }
      } finally {
        await release();
      }
    } finally {
      await pg?.drop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
