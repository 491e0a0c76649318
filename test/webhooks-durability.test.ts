import { afterAll, describe, expect, it } from 'vitest';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { ocppTestbed } from './support/ocpp-testbed.js';
import { startTestService } from './support/service.js';
import { dbKind } from './support/database.js';
import { connectorEventIds, eventually } from './support/history.js';
import { killableServer } from './support/killable-server.js';
import { connectCharger, type ChargerClient } from './support/charger.js';
import { statusNotification } from './support/ocpp16-payloads.js';
import { sleep } from './support/sleep.js';
import { aReceiver, type Receiver } from './support/webhook-receiver.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/app.js';

const FLAGS = { DYNAMO_WEBHOOKS_ALLOW_HTTP: 'true', DYNAMO_WEBHOOKS_ALLOW_PRIVATE: 'true', DYNAMO_WEBHOOKS_RETRY_BASE_MS: '200', DYNAMO_EVENTS_POLL_MS: '200' };

/** Flips connector 1 of a charger n times: n connector.status_changed events. */
async function flips(c: ChargerClient, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await c.call('StatusNotification', statusNotification(1, i % 2 === 0 ? 'Available' : 'Preparing'));
}

const connectorEventsOf = (r: Receiver, cp: string) => r.received.filter((x) => x.json?.event === 'connector.status_changed' && x.json.data.charge_point_id === cp).map((x) => x.json.id as string);

/** First arrivals in order: at least once, so repeats are allowed, but never out of order. */
const firstArrivals = (ids: string[]) => [...new Set(ids)];

describe(`webhook deliveries survive restarts and move between nodes (${dbKind})`, () => {
  const bed = ocppTestbed({ ...FLAGS, DYNAMO_LEASE_TTL: '3' });
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await aReceiver();
    receivers.push(r);
    return r;
  };
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
  });
  const create = async (t: TenantFixture, url: string) => {
    const r = await t.api('POST', '/api/v1/webhooks/endpoints', { body: { url, events: ['connector.status_changed'] } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };

  it('resumes after a restart from the stored cursor: the retry goes on, nothing delivered is sent again, nothing is lost', async () => {
    const r = await receiver();
    const e = await create(bed.t, r.url);
    const id = await aCharger(bed.t.api, bed.site);
    const c = await bed.connect(id);
    await flips(c, 3);
    await r.waitFor(() => connectorEventsOf(r, id).length === 3);
    // The receiver breaks; four more changes wait behind the first of them.
    r.respondWith(() => ({ status: 500 }));
    await flips(c, 4, 3);
    const pending = await eventually(
      async () => (await bed.t.api('GET', `/api/v1/webhooks/endpoints/${e}/deliveries?status=pending`)).body,
      (b) => b.deliveries?.[0]?.attempts >= 2,
    );
    const attemptsBefore = pending.deliveries[0].attempts;
    await c.close({ force: true });

    await bed.svc.restart();
    r.respondWith(() => ({ status: 200 }));
    const all = await connectorEventIds(bed.svc.service.db, id);
    expect(all).toHaveLength(7);
    await r.waitFor(() => new Set(connectorEventsOf(r, id)).size === 7);
    const got = connectorEventsOf(r, id);
    expect(firstArrivals(got)).toEqual(all);
    // The three delivered before the restart were not sent again: the cursor was stored.
    for (const x of all.slice(0, 3)) expect(got.filter((y) => y === x)).toHaveLength(1);
    const d = (await bed.t.api('GET', `/api/v1/webhooks/endpoints/${e}/deliveries`)).body;
    const retried = d.deliveries.find((x: any) => x.event_id === all[3]);
    // Its attempts went on counting across the restart.
    expect(retried).toMatchObject({ status: 'delivered', last_status_code: 200 });
    expect(retried.attempts).toBeGreaterThan(attemptsBefore);
  }, 90_000);

  // One embedded database belongs to one process: two nodes need PostgreSQL.
  it.skipIf(dbKind !== 'postgres')('with two nodes on one PostgreSQL: one node delivers for an endpoint at a time, and the other takes over when it stops', async () => {
    const second = await startService(loadConfig({ ...bed.svc.env, PORT: '0' }), createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
    try {
      const rs = await Promise.all([receiver(), receiver(), receiver()]);
      const endpoints = await Promise.all(rs.map((r) => create(bed.t, r.url)));
      // Chargers on both nodes.
      const ids = await Promise.all([aCharger(bed.t.api, bed.site), aCharger(bed.t.api, bed.site)]);
      const c1 = await bed.connect(ids[0]!);
      const c2 = await connectCharger(`${second.url.replace('http', 'ws')}/ocpp`, ids[1]!);
      await Promise.all([flips(c1, 5), flips(c2, 5)]);
      for (const r of rs) await r.waitFor(() => ids.every((cp) => new Set(connectorEventsOf(r, cp)).size === 5), 60_000);
      const holders = await bed.svc.service.db.query<{ lease_owner: string }>('SELECT lease_owner FROM webhook_endpoints WHERE endpoint_id = ANY($1)', [endpoints]);
      expect(holders.every((h) => h.lease_owner === bed.svc.service.nodeId || h.lease_owner === second.nodeId)).toBe(true);

      // The node holding the endpoints stops (cleanly: it hands its leases back); the other continues at once.
      const holder = holders[0]!.lease_owner === second.nodeId ? 'second' : 'first';
      if (holder === 'first') await c1.close({ force: true });
      const survivor = holder === 'first' ? second : bed.svc.service;
      const stillConnected = holder === 'first' ? c2 : c1;
      const cp = holder === 'first' ? ids[1]! : ids[0]!;
      if (holder === 'first') await bed.svc.service.stop();
      else await second.stop();
      await flips(stillConnected, 3, 5);
      for (const r of rs) await r.waitFor(() => new Set(connectorEventsOf(r, cp)).size === 8, 60_000);
      const all = await connectorEventIds(survivor.db, cp);
      for (const r of rs) {
        expect(firstArrivals(connectorEventsOf(r, cp))).toEqual(all);
        expect(r.maxInFlight).toBe(1);
      }
      const owners = await survivor.db.query<{ lease_owner: string }>('SELECT DISTINCT lease_owner FROM webhook_endpoints WHERE endpoint_id = ANY($1)', [endpoints]);
      expect(owners).toEqual([{ lease_owner: survivor.nodeId }]);
      if (holder === 'first') {
        // The testbed's service is stopped: start it again for afterAll.
        await bed.svc.restart();
      }
      await stillConnected.close({ force: true });
    } finally {
      await second.stop();
    }
  }, 120_000);
});

describe(`sustained failure disables an endpoint (${dbKind})`, () => {
  it('after DYNAMO_WEBHOOKS_DISABLE_AFTER of unbroken failure the endpoint is disabled and webhook_endpoint.disabled is delivered to the others', async () => {
    const svc = await startTestService({ ...FLAGS, DYNAMO_WEBHOOKS_DISABLE_AFTER: '2' });
    const broken = await aReceiver(() => ({ status: 502 }));
    const watcher = await aReceiver();
    try {
      const t = await aTenant(svc.url);
      const site = await aSite(t.api);
      const e = (await t.api('POST', '/api/v1/webhooks/endpoints', { body: { url: broken.url, events: ['*'] } })).body.id;
      await t.api('POST', '/api/v1/webhooks/endpoints', { body: { url: watcher.url, events: ['webhook_endpoint.disabled'] } });
      const c = await connectCharger(svc.wsUrl, await aCharger(t.api, site));
      const notice = (await watcher.waitFor((rs) => rs.length > 0, 30_000))[0]!;
      expect(notice.json).toMatchObject({ event: 'webhook_endpoint.disabled', data: { endpoint_id: e, reason: 'failing', last_status_code: 502, last_error: 'HTTP 502' } });
      const ep = (await t.api('GET', `/api/v1/webhooks/endpoints/${e}`)).body;
      expect(ep).toMatchObject({ status: 'disabled', disabled_reason: 'failing' });
      // Disabled only after the window: the first and the last attempt are at least 2 s apart.
      const attempts = broken.received.map((x) => x.at);
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts.at(-1)! - attempts[0]!).toBeGreaterThanOrEqual(1900);
      expect(new Set(broken.received.map((x) => x.json.id)).size).toBe(1);
      const d = (await t.api('GET', `/api/v1/webhooks/endpoints/${e}/deliveries`)).body.deliveries;
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ status: 'failed', attempts: attempts.length, next_attempt_at: null, last_status_code: 502 });
      // Nothing more is sent to it.
      const count = broken.received.length;
      await c.call('StatusNotification', statusNotification(1, 'Available'));
      await sleep(1000);
      expect(broken.received).toHaveLength(count);
      await c.close({ force: true });
    } finally {
      await broken.close();
      await watcher.close();
      await svc.close();
    }
  }, 120_000);
});

describe(`webhook deliveries after kill -9 (${dbKind})`, () => {
  it('a new process resumes from the stored cursor once the dead one\'s lease expires: every event at least once, in order', async () => {
    const server = await killableServer({ ...FLAGS, DYNAMO_LEASE_TTL: '3' });
    // A slow receiver, so a backlog is still waiting when the process dies.
    const r = await aReceiver(() => ({ status: 200, delayMs: 30 }));
    try {
      const a = await server.start();
      const t = await aTenant(a.url);
      const site = await aSite(t.api);
      const endpoint = (await t.api('POST', '/api/v1/webhooks/endpoints', { body: { url: r.url, events: ['connector.status_changed'] } })).body.id;
      expect(endpoint).toMatch(/^whe_/);
      const id = await aCharger(t.api, site);
      const c = await connectCharger(`${a.url.replace('http', 'ws')}/ocpp`, id);
      await flips(c, 60);
      await r.waitFor((rs) => rs.length >= 5);
      await server.kill();
      await c.close({ force: true }).catch(() => {});
      const beforeRestart = r.received.length;
      expect(beforeRestart).toBeLessThan(60);

      await server.start();
      try {
        await r.waitFor(() => new Set(connectorEventsOf(r, id)).size === 60, 30_000);
      } finally {
        await server.stop();
      }
      await server.withDatabase(async (db) => {
        const all = await connectorEventIds(db, id);
        expect(all).toHaveLength(60);
        expect(firstArrivals(connectorEventsOf(r, id))).toEqual(all);
      });
    } finally {
      await r.close();
      await server.dispose();
    }
  }, 120_000);
});
