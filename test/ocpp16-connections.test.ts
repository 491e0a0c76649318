import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, uniqueId, type TenantFixture } from './support/builders.js';
import { connectCharger, rawCharger } from './support/charger.js';
import { eventually, history } from './support/history.js';
import { dbKind } from './support/database.js';
import { sleep } from './support/sleep.js';

describe(`OCPP 1.6J connections and real-world charger behaviour (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;
  let h: ReturnType<typeof history>;

  beforeAll(async () => {
    // A 1 s heartbeat interval: silent connections are dropped after 2 s.
    svc = await startTestService({ DYNAMO_HEARTBEAT_INTERVAL: '1' });
    t = await aTenant(svc.url);
    site = await aSite(t.api);
    h = history(svc.service.db);
  });
  afterAll(() => svc?.close());

  it('a second connection with the same identity replaces the first', async () => {
    const id = await aCharger(t.api, site);
    const first = await connectCharger(svc.wsUrl, id);
    await first.call('Heartbeat', {});
    const firstClosed = new Promise((r) => first.once('close', r));
    const second = await connectCharger(svc.wsUrl, id);
    await firstClosed;
    expect((await second.call('Heartbeat', {})).currentTime).toBeTruthy();
    const rows = await eventually(() => h.connections(id), (r) => r.length === 2 && r[0]!.disconnected_at !== null);
    expect(rows[0]!.disconnect_reason).toBe('replaced');
    expect(rows[1]!.disconnected_at).toBeNull();
    await second.close();
    const closed = await eventually(() => h.connections(id), (r) => r[1]!.disconnected_at !== null);
    expect(closed[1]!.disconnect_reason).toBe('closed_by_charger');
  });

  it('records the close of a replacing connection that goes away while the replaced one is still being recorded', async () => {
    const id = await aCharger(t.api, site);
    for (let i = 0; i < 5; i++) {
      // A live connection, then one that replaces it and hangs up at once: its close comes while the
      // replaced connection's disconnect is still being committed, before its own Connected is.
      const live = await rawCharger(`${svc.wsUrl}/${id}`);
      const replacing = await rawCharger(`${svc.wsUrl}/${id}`);
      replacing.ws.close();
      await Promise.all([live.closed, replacing.closed]);
    }
    const rows = await eventually(() => h.connections(id), (r) => r.length === 10 && r.every((c) => c.disconnected_at !== null));
    // Which reason a short-lived connection gets depends on which commit comes first; none stays open.
    expect(rows.every((c) => c.disconnect_reason === 'closed_by_charger' || c.disconnect_reason === 'replaced')).toBe(true);
    expect(rows.at(-1)!.disconnect_reason).toBe('closed_by_charger');
  });

  it('closes a silent connection after twice the heartbeat interval, as of when it was last heard', async () => {
    const id = await aCharger(t.api, site);
    // Never answers pings and never sends: only silence.
    const raw = await rawCharger(`${svc.wsUrl}/${id}`, 'ocpp1.6', { autoPong: false });
    raw.send([2, 'hb', 'Heartbeat', {}]);
    await raw.next();
    const lastHeard = Date.now();
    const { code } = await raw.closed;
    expect(code).toBe(1006); // terminated: the socket is presumed dead
    const rows = await eventually(() => h.connections(id), (r) => r[0]?.disconnected_at != null);
    expect(rows[0]!.disconnect_reason).toBe('liveness_timeout');
    expect(Math.abs(rows[0]!.disconnected_at!.getTime() - lastHeard)).toBeLessThan(300);
  });

  it('keeps a charger that never answers pings but keeps talking, and one that only answers pings', async () => {
    const talker = await aCharger(t.api, site);
    const ponger = await aCharger(t.api, site);
    const a = await rawCharger(`${svc.wsUrl}/${talker}`, 'ocpp1.6', { autoPong: false });
    const b = await rawCharger(`${svc.wsUrl}/${ponger}`, 'ocpp1.6', { autoPong: true });
    let pings = 0;
    b.ws.on('ping', () => pings++);
    for (let i = 0; i < 8; i++) {
      a.send([2, `hb${i}`, 'Heartbeat', {}]);
      await a.next();
      await sleep(500);
    }
    expect(a.ws.readyState).toBe(a.ws.OPEN);
    expect(b.ws.readyState).toBe(b.ws.OPEN);
    expect(pings).toBeGreaterThan(0);
    a.ws.close();
    b.ws.close();
    // Both closed themselves: neither was dropped for silence or for ignoring pings.
    const closedBy = async (cp: string) => (await eventually(() => h.connections(cp), (r) => r[0]?.disconnect_reason != null))[0]!.disconnect_reason;
    expect(await closedBy(talker)).toBe('closed_by_charger');
    expect(await closedBy(ponger)).toBe('closed_by_charger');
  });

  it('stores messages queued offline at their own time, without overwriting newer state', async () => {
    const id = await aCharger(t.api, site);
    const c = await connectCharger(svc.wsUrl, id);
    const now = Date.now();
    const at = (minAgo: number) => new Date(now - minAgo * 60_000).toISOString();
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(60) });
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(5) });
    // Replayed after reconnect: these happened 40 and 30 minutes ago.
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: at(40) });
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Finishing', timestamp: at(30) });
    const intervals = await h.intervals(id, 1);
    expect(intervals.map((i) => [i.status, i.started_at.toISOString(), i.ended_at?.toISOString() ?? null])).toEqual([
      ['Available', at(60), at(40)],
      ['Charging', at(40), at(30)],
      ['Finishing', at(30), at(5)],
      ['Available', at(5), null],
    ]);
    // The current status is the newest report, not the last one to arrive.
    expect((await h.connectors(id))[0]).toMatchObject({ status: 'Available' });
    expect((await h.connectors(id))[0]!.status_at.toISOString()).toBe(at(5));
    await c.close();
  });

  it('falls back to receive time for a charger clock more than 5 minutes ahead', async () => {
    const id = await aCharger(t.api, site);
    const c = await connectCharger(svc.wsUrl, id);
    const before = Date.now();
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: new Date(before + 86_400_000).toISOString() });
    await c.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available', timestamp: new Date(before + 60_000).toISOString() });
    const events = await h.statusEvents(id);
    expect(events[0]!.effective_at.getTime()).toBeLessThan(before + 5_000);
    expect(events[0]!.charger_time.getTime()).toBe(before + 86_400_000);
    expect(events[1]!.effective_at.getTime()).toBe(before + 60_000); // one minute ahead is believed
    await c.close();
  });
});

describe(`OCPP auto-registration (${dbKind})`, () => {
  it('admits an unknown identity into DYNAMO_AUTO_REGISTER when set', async () => {
    const svc = await startTestService();
    try {
      const tenant = await aTenant(svc.url);
      const siteId = await aSite(tenant.api);
      const id = uniqueId('AUTO');
      await expect(connectCharger(svc.wsUrl, id)).rejects.toThrow();
      svc.env.DYNAMO_AUTO_REGISTER = siteId;
      await svc.restart();
      const c = await connectCharger(svc.wsUrl, id);
      await c.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
      const got = await tenant.api('GET', `/api/v1/cpo/chargers/${id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ site_id: siteId, vendor: 'V', model: 'M', has_password: false });
      await c.close();
    } finally {
      await svc.close();
    }
  });
});
