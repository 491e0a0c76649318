import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { aChargerDriver, type ChargerDriver, type Protocol } from './support/driver.js';
import { dbKind } from './support/database.js';

/** GET /api/v1/cpo/sessions: what the chargers did, active first, on every version. */
describe(`sessions API (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let other: TenantFixture;
  const drivers: ChargerDriver[] = [];

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url);
    other = await aTenant(svc.url, 'Other');
  });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close().catch(() => undefined)));
    await svc?.close();
  });

  describe.each(['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'] as Protocol[])('%s', (protocol) => {
    it('lists and shows sessions as the charger ran them, active ones first', async () => {
      const site = await aSite(t.api, { name: `Site ${protocol}` });
      const id = await aCharger(t.api, site);
      const d = await aChargerDriver(svc.wsUrl, id, protocol);
      drivers.push(d);
      await d.boot('ABB', 'Terra', '1.0');
      await d.status(1, 'Available');
      await d.status(2, 'Available');
      // Session 1 on connector 1: 1000 → 8500 Wh, completed. Session 2 on connector 2: active, 500 → 2500 Wh so far.
      const tx1 = await d.startSession(1, 1000);
      await d.meter(1, tx1, 4000);
      await d.stopSession(1, tx1, 8500, 'EVDisconnected');
      const tx2 = await d.startSession(2, 500);
      await d.meter(2, tx2, 2500);

      const list = await t.api('GET', `/api/v1/cpo/sessions?site_id=${site}`);
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ total: 2, limit: 100, offset: 0 });
      const [active, completed] = list.body.sessions;
      expect(active).toMatchObject({ charge_point_id: id, site_id: site, connector_id: 2, transaction_id: tx2, status: 'active', stopped_at: null, energy_kwh: 2, stop_reason: null });
      expect(completed).toMatchObject({ charge_point_id: id, connector_id: 1, transaction_id: tx1, status: 'completed', energy_kwh: 7.5, stop_reason: 'EVDisconnected', id_tag: 'T1' });
      expect(active.session_id).toMatch(/^ses_\d+$/);
      expect(completed.stopped_at).toMatch(/Z$/);

      const one = await t.api('GET', `/api/v1/cpo/sessions/${completed.session_id}`);
      expect(one.body).toEqual(completed);
      expect((await t.api('GET', `/api/v1/cpo/sessions?charge_point_id=${id}&status=active`)).body.sessions.map((s: any) => s.session_id)).toEqual([active.session_id]);
      expect((await t.api('GET', `/api/v1/cpo/sessions?charge_point_id=${id}&status=completed`)).body.total).toBe(1);
      // Time window: a session counts when it overlaps [from, to).
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect((await t.api('GET', `/api/v1/cpo/sessions?charge_point_id=${id}&from=${encodeURIComponent(future)}`)).body.sessions.map((s: any) => s.status)).toEqual(['active']);
      // Another tenant sees nothing.
      expect((await other.api('GET', `/api/v1/cpo/sessions/${completed.session_id}`)).status).toBe(404);
      expect((await other.api('GET', `/api/v1/cpo/sessions?charge_point_id=${id}`)).body.total).toBe(0);
    });
  });

  it('reports the energy of a session whose charger sent no meter reading as unknown (null), not 0', async () => {
    const site = await aSite(t.api, { name: 'No meter' });
    const id = await aCharger(t.api, site);
    const d = await aChargerDriver(svc.wsUrl, id, 'ocpp2.0.1');
    drivers.push(d);
    await d.boot('ABB', 'Terra', '1.0');
    const at = new Date().toISOString();
    // A station that reports no meter values with its transaction events (allowed: they are optional).
    await d.client.call('TransactionEvent', {
      eventType: 'Started', seqNo: 0, timestamp: at, triggerReason: 'Authorized', evse: { id: 1, connectorId: 1 },
      idToken: { idToken: 'T1', type: 'ISO14443' }, transactionInfo: { transactionId: 'TX-NOMETER', chargingState: 'Charging' },
    });
    await d.client.call('TransactionEvent', {
      eventType: 'Ended', seqNo: 1, timestamp: at, triggerReason: 'StopAuthorized', transactionInfo: { transactionId: 'TX-NOMETER', stoppedReason: 'Local' },
    });
    const [session] = (await t.api('GET', `/api/v1/cpo/sessions?charge_point_id=${id}`)).body.sessions;
    expect(session).toMatchObject({ transaction_id: 'TX-NOMETER', status: 'completed', energy_kwh: null });
  });

  it('agrees with the fleet summary on what is charging now', async () => {
    const summary = await t.api('GET', '/api/v1/cpo/fleet/summary');
    const active = await t.api('GET', '/api/v1/cpo/sessions?status=active');
    expect(summary.body.active_sessions).toBe(3);
    expect(active.body.total).toBe(summary.body.active_sessions);
    expect(new Set(active.body.sessions.map((s: any) => s.charge_point_id)).size).toBe(summary.body.charging);
  });

  it('refuses bad input and keys without read:sessions', async () => {
    expect((await t.api('GET', '/api/v1/cpo/sessions?status=charging')).status).toBe(400);
    expect((await t.api('GET', '/api/v1/cpo/sessions?from=yesterday')).status).toBe(400);
    expect((await t.api('GET', '/api/v1/cpo/sessions/ses_x')).status).toBe(404);
    expect((await t.api('GET', '/api/v1/cpo/sessions/ses_99999999999999999999')).status).toBe(404);
    const noScope = await aTenant(svc.url, 'NS', ['read:charge_points']);
    expect((await noScope.api('GET', '/api/v1/cpo/sessions')).status).toBe(403);
  });
});
