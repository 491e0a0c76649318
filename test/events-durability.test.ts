import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from './support/cli.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { connectCharger, type ChargerClient } from './support/charger.js';
import { dbKind, freshPostgresUrl } from './support/database.js';
import { killableServer } from './support/killable-server.js';
import { ADMIN_KEY } from './support/service.js';
import { sleep } from './support/sleep.js';
import { openSse } from './support/sse.js';
import pg from 'pg';
const wire = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

describe(`the event log is as durable as what it tells (${dbKind})`, () => {
  it('after kill -9 under load, every answered status change has its event; crash recovery tells the disconnects', async () => {
    const server = await killableServer({ DYNAMO_LEASE_TTL: '3' });
    try {
      const a = await server.start();
      const t = await aTenant(a.url);
      const site = await aSite(t.api);
      const ids = await Promise.all(Array.from({ length: 8 }, () => aCharger(t.api, site)));
      const wsUrl = `${a.url.replace('http', 'ws')}/ocpp`;
      const chargers: ChargerClient[] = await Promise.all(ids.map((id) => connectCharger(wsUrl, id)));

      // Each report changes the connector's status, at a charger time of its own (one second apart),
      // so each answered report must have exactly one connector.status_changed with its time.
      const base = Date.now() - 86_400_000;
      const answered: { cp: string; at: string; status: string }[] = [];
      let killed = false;
      const load = chargers.map(async (c, i) => {
        for (let n = 0; !killed; n++) {
          const status = n % 2 === 0 ? 'Preparing' : 'Available';
          const at = base + n * 1000;
          try {
            await c.call('StatusNotification', { connectorId: 1, status, errorCode: 'NoError', timestamp: new Date(at).toISOString() });
            answered.push({ cp: ids[i]!, at: wire(at), status });
          } catch {
            return; // unanswered: nothing was promised
          }
        }
      });
      await sleep(1500);
      killed = true;
      await server.kill();
      await Promise.all(load);
      await Promise.all(chargers.map((c) => c.close({ force: true }).catch(() => {})));
      expect(answered.length).toBeGreaterThan(20);

      await server.start();
      await sleep(4500); // past the lease TTL: the dead node's connections are recovered
      expect((await server.stop()).code).toBe(0);

      await server.withDatabase(async (db) => {
        const events = await db.query<{ event: string; charge_point_id: string; data: any }>(
          'SELECT event, charge_point_id, data FROM fleet_events ORDER BY id',
        );
        const told = new Set(
          events.filter((e) => e.event === 'connector.status_changed').map((e) => `${e.charge_point_id}/${e.data.at}/${e.data.status}`),
        );
        expect(answered.filter((x) => !told.has(`${x.cp}/${x.at}/${x.status}`))).toEqual([]);
        for (const id of ids) {
          const mine = events.filter((e) => e.charge_point_id === id);
          expect(mine.filter((e) => e.event === 'charge_point.connected')).toHaveLength(1);
          expect(mine.filter((e) => e.event === 'charge_point.disconnected').map((e) => e.data.reason)).toEqual(['crash_recovery']);
          expect(mine.filter((e) => e.event === 'charge_point.status_changed').at(-1)!.data.status).toBe('Offline');
        }
      });
    } finally {
      await server.dispose();
    }
  }, 240_000);

  it.skipIf(dbKind !== 'postgres')('a stream on one node sees the events of chargers held by another, in order, woken by NOTIFY', async () => {
    const pg = (await freshPostgresUrl())!;
    const dirs = await Promise.all([mkdtemp(join(tmpdir(), 'dynamo-a-')), mkdtemp(join(tmpdir(), 'dynamo-b-'))]);
    // The poll is an hour: only NOTIFY can wake node A's stream in time.
    const env = (dir: string) => ({ DYNAMO_DATA_DIR: dir, DYNAMO_ADMIN_KEY: ADMIN_KEY, PORT: '0', DATABASE_URL: pg.url, DYNAMO_EVENTS_POLL_MS: '60000' });
    const a = await spawnServer(env(dirs[0]!));
    const b = await spawnServer(env(dirs[1]!));
    try {
      const t = await aTenant(a.url);
      const site = await aSite(t.api);
      const id = await aCharger(t.api, site);
      const stream = await openSse(`${a.url}/api/v1/cpo/events?charge_point_id=${id}&event=connector.status_changed`, t.key);
      const c = await connectCharger(`${b.url.replace('http', 'ws')}/ocpp`, id);
      const statuses = ['Available', 'Preparing', 'Charging', 'Finishing', 'Available'];
      for (const s of statuses) await c.call('StatusNotification', { connectorId: 1, status: s, errorCode: 'NoError', timestamp: new Date().toISOString() });
      await stream.waitFor((m) => m.data.data.status === 'Available' && stream.messages.length === statuses.length, 20_000);
      expect(stream.messages.map((m) => m.data.data.status)).toEqual(statuses);
      await c.close({ code: 1000 });
      await stream.close();
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
      await pg.drop();
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  }, 240_000);

  it.skipIf(dbKind !== 'postgres')('an event held back by a transaction running elsewhere on the server reaches the stream when that transaction ends, not at the next poll', async () => {
    const db = (await freshPostgresUrl())!;
    const dir = await mkdtemp(join(tmpdir(), 'dynamo-held-'));
    // The poll is a minute: after its one NOTIFY, only the feed looking again can bring the event.
    const node = await spawnServer({ DYNAMO_DATA_DIR: dir, DYNAMO_ADMIN_KEY: ADMIN_KEY, PORT: '0', DATABASE_URL: db.url, DYNAMO_EVENTS_POLL_MS: '60000' });
    const blocker = new pg.Client({ connectionString: db.url });
    try {
      const t = await aTenant(node.url);
      const id = await aCharger(t.api, await aSite(t.api));
      const stream = await openSse(`${node.url}/api/v1/cpo/events?charge_point_id=${id}&event=connector.status_changed`, t.key);
      const c = await connectCharger(`${node.url.replace('http', 'ws')}/ocpp`, id);
      // A transaction with an id, older than the charger's next one: the log's horizon stays below it.
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()');
      await c.call('StatusNotification', { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure', timestamp: new Date().toISOString() });
      // Answered, so committed and announced; not readable while the older transaction runs.
      await sleep(1500);
      expect(stream.messages).toEqual([]);
      await blocker.query('COMMIT');
      await stream.waitFor((m) => m.data.data.status === 'Faulted', 10_000);
      await c.close({ code: 1000 });
      await stream.close();
    } finally {
      await blocker.end().catch(() => undefined);
      node.child.kill('SIGTERM');
      await node.exited;
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
