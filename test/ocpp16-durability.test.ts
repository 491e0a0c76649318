import { describe, expect, it } from 'vitest';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { connectCharger, type ChargerClient } from './support/charger.js';
import { dbKind } from './support/database.js';
import { killableServer } from './support/killable-server.js';
import { sleep } from './support/sleep.js';

describe(`durability: SIGKILL loses nothing acknowledged, and crash recovery closes the dead node's connections (${dbKind})`, () => {
  it('every answered StartTransaction survives kill -9; the open intervals are closed at the last lease', async () => {
    const server = await killableServer({ DYNAMO_LEASE_TTL: '3' });
    try {
      const a = await server.start();
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
      await server.kill();
      await Promise.all(load);
      await Promise.all(chargers.map((c) => c.close({ force: true }).catch(() => {})));
      expect(answered.length).toBeGreaterThan(20);

      // Restart on the same database; wait past the lease TTL so recovery closes the dead node's intervals.
      await server.start();
      await sleep(4500);
      expect((await server.stop()).code).toBe(0);

      await server.withDatabase(async (db) => {
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
      });
    } finally {
      await server.dispose();
    }
  }, 240_000);
});
