import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { connectCharger, isoAgo } from './support/charger.js';
import { aChargerDriver, type ChargerDriver, type Protocol } from './support/driver.js';
import { eventually } from './support/history.js';
import { dbKind } from './support/database.js';

/**
 * The fleet API over history recorded from real chargers on real sockets, once
 * per OCPP version: the same story must give the same answers.
 */
describe.each(['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'] as Protocol[])(`fleet dashboard API on live OCPP history: %s (${dbKind})`, (protocol) => {
  const v16 = protocol === 'ocpp1.6';
  let svc: TestService;
  let t: TenantFixture;
  let other: TenantFixture;
  let siteA: string;
  let siteB: string;
  const ids: Record<string, string> = {};
  const clients: ChargerDriver[] = [];

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url, 'Fleet');
    other = await aTenant(svc.url, 'Other');
    siteA = await aSite(t.api, { name: 'A' });
    siteB = await aSite(t.api, { name: 'B' });
    for (const name of ['available', 'charging', 'faulted', 'unavailable', 'offline']) {
      ids[name] = await aCharger(t.api, name === 'offline' ? siteB : siteA, { charge_point_id: `${name.toUpperCase()}-${process.pid}-${dbKind}` });
    }
    const connect = async (name: string) => {
      const c = await aChargerDriver(svc.wsUrl, ids[name]!, protocol);
      clients.push(c);
      await c.boot('ABB', 'Terra AC', '3.4.1');
      return c;
    };
    const available = await connect('available');
    await available.status(1, 'Available');
    await available.status(2, 'Available');

    const charging = await connect('charging');
    await charging.status(1, 'Available');
    const tx = await charging.startSession(1, 1000);
    await charging.status(1, 'Charging');
    await charging.meter(1, tx, 3500);

    const faulted = await connect('faulted');
    const base = Date.now();
    const ago = (ms: number) => new Date(base - ms).toISOString();
    await faulted.status(1, 'Faulted', { errorCode: 'ConnectorLockFailure', at: ago(60_000), info: 'Lock stuck' });
    await faulted.status(1, 'Available', { at: ago(50_000) });
    await faulted.status(0, 'Faulted', { errorCode: 'GroundFailure', at: ago(40_000), info: 'Ground fault detected on connector 1' });

    const unavailable = await connect('unavailable');
    await unavailable.status(1, 'Unavailable');
    await unavailable.heartbeat();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.client.close({ force: true }).catch(() => {})));
    await svc?.close();
  });

  it('summary: counts by the one status of each charger, sessions and energy today', async () => {
    const r = await t.api('GET', '/api/v1/cpo/fleet/summary');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      total_chargers: 5,
      online: 4,
      offline: 1,
      charging: 1,
      available: 1,
      faulted: 1,
      unavailable: 1,
      active_sessions: 1,
      total_energy_today_kwh: 2.5,
    });
    expect(r.body.online).toBe(r.body.charging + r.body.available + r.body.faulted + r.body.unavailable);
    const bySite = await t.api('GET', `/api/v1/cpo/fleet/summary?site_id=${siteB}`);
    expect(bySite.body).toMatchObject({ total_chargers: 1, offline: 1, online: 0 });
    // Another tenant sees an empty fleet.
    expect((await other.api('GET', '/api/v1/cpo/fleet/summary')).body).toMatchObject({ total_chargers: 0, active_sessions: 0, total_energy_today_kwh: 0 });
  });

  it('chargers: status filter, site filter, connectors, paging with total', async () => {
    const all = await t.api('GET', '/api/v1/cpo/fleet/chargers');
    expect(all.body.total).toBe(5);
    const faulted = await t.api('GET', '/api/v1/cpo/fleet/chargers?status=faulted');
    expect(faulted.body.total).toBe(1);
    expect(faulted.body.chargers[0]).toMatchObject({
      charge_point_id: ids.faulted,
      site_id: siteA,
      vendor: 'ABB',
      model: 'Terra AC',
      firmware_version: '3.4.1',
      status: 'Faulted',
      ocpp_version: protocol.replace('ocpp', ''),
      connectors: [{ connector_id: 1, type: null, status: 'Available', error_code: v16 ? 'NoError' : null }],
    });
    expect(Date.parse(faulted.body.chargers[0].last_seen)).toBeGreaterThan(Date.now() - 60_000);
    expect((await t.api('GET', '/api/v1/cpo/fleet/chargers?status=online')).body.total).toBe(4);
    expect((await t.api('GET', '/api/v1/cpo/fleet/chargers?status=offline')).body.chargers.map((c: any) => c.charge_point_id)).toEqual([ids.offline]);
    expect((await t.api('GET', '/api/v1/cpo/fleet/chargers?status=charging')).body.chargers[0].charge_point_id).toBe(ids.charging);
    expect((await t.api('GET', '/api/v1/cpo/fleet/chargers?status=available')).body.chargers[0].charge_point_id).toBe(ids.available);
    // A full page counts the list; a short one (the last) and a page past the end are told apart.
    const full = await t.api('GET', '/api/v1/cpo/fleet/chargers?limit=2&offset=2');
    expect(full.body).toMatchObject({ total: 5, limit: 2, offset: 2 });
    expect(full.body.chargers).toHaveLength(2);
    const page = await t.api('GET', '/api/v1/cpo/fleet/chargers?limit=2&offset=4');
    expect(page.body).toMatchObject({ total: 5, limit: 2, offset: 4 });
    expect(page.body.chargers).toHaveLength(1);
    const beyond = await t.api('GET', '/api/v1/cpo/fleet/chargers?limit=2&offset=10');
    expect(beyond.body).toMatchObject({ total: 5, chargers: [] });
    expect((await t.api('GET', `/api/v1/cpo/fleet/chargers?site_id=${siteB}`)).body.total).toBe(1);
  });

  it('errors: most recent first, filters, resolved flag, paging with total; error-history per charger', async () => {
    const r = await t.api('GET', '/api/v1/cpo/fleet/errors');
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(2);
    expect(r.body.errors.map((e: any) => e.error_code)).toEqual(['GroundFailure', 'ConnectorLockFailure']);
    const ground = r.body.errors[0];
    expect(ground).toMatchObject({ charge_point_id: ids.faulted, site_id: siteA, error_code: 'GroundFailure', info: 'Ground fault detected on connector 1', status: 'Faulted', resolved_at: null, connector_id: 0 });
    expect(ground.event_id).toMatch(/^evt_/);
    const lock = r.body.errors[1];
    expect(Date.parse(lock.resolved_at) - Date.parse(lock.timestamp)).toBe(10_000);
    // 1.6 reports the status with the error; a 2.x connector problem (NotifyEvent) carries none.
    expect(lock).toMatchObject({ connector_id: 1, info: 'Lock stuck', status: v16 ? 'Faulted' : null });

    expect((await t.api('GET', '/api/v1/cpo/fleet/errors?error_code=ConnectorLockFailure')).body.total).toBe(1);
    expect((await t.api('GET', '/api/v1/cpo/fleet/errors?resolved=false')).body.errors.map((e: any) => e.error_code)).toEqual(['GroundFailure']);
    expect((await t.api('GET', '/api/v1/cpo/fleet/errors?resolved=true')).body.errors.map((e: any) => e.error_code)).toEqual(['ConnectorLockFailure']);
    const page = await t.api('GET', '/api/v1/cpo/fleet/errors?limit=1&offset=1');
    expect(page.body).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(page.body.errors.map((e: any) => e.error_code)).toEqual(['ConnectorLockFailure']);
    const recent = await t.api('GET', `/api/v1/cpo/fleet/errors?from=${encodeURIComponent(isoAgo(45_000))}`);
    expect(recent.body.errors.map((e: any) => e.error_code)).toEqual(['GroundFailure']);
    expect((await t.api('GET', `/api/v1/cpo/fleet/errors?charge_point_id=${ids.available}`)).body.total).toBe(0);
    expect((await other.api('GET', '/api/v1/cpo/fleet/errors')).body.total).toBe(0);

    const h = await t.api('GET', `/api/v1/cpo/chargers/${ids.faulted}/error-history?limit=1`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ charge_point_id: ids.faulted, total: 2, limit: 1 });
    expect(h.body.errors[0].error_code).toBe('GroundFailure');
  });

  it('connectivity: connected and disconnected events in order, with reasons', async () => {
    const id = await aCharger(t.api, siteA);
    const c1 = await connectCharger(svc.wsUrl, id, { protocols: [protocol] });
    await c1.close();
    await eventually(() => t.api('GET', `/api/v1/cpo/chargers/${id}/connectivity`), (r) => r.body.events.length === 2);
    const c2 = await aChargerDriver(svc.wsUrl, id, protocol);
    clients.push(c2);
    const r = await eventually(() => t.api('GET', `/api/v1/cpo/chargers/${id}/connectivity`), (x) => x.body.events.length === 3);
    expect(r.body.charge_point_id).toBe(id);
    expect(r.body.events.every((e: any) => e.ocpp_version === protocol.replace('ocpp', ''))).toBe(true);
    expect(r.body.events.map((e: any) => [e.type, e.reason])).toEqual([
      ['connected', null],
      ['disconnected', 'closed_by_charger'],
      ['connected', null],
    ]);
    const times = r.body.events.map((e: any) => Date.parse(e.timestamp));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const future = await t.api('GET', `/api/v1/cpo/chargers/${id}/connectivity?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.events).toEqual([]);
  });

  it('diagnostics: firmware, OCPP version, errors, heartbeat and per-connector sessions and energy', async () => {
    const d = await t.api('GET', `/api/v1/cpo/chargers/${ids.charging}/diagnostics`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({
      charge_point_id: ids.charging,
      firmware_version: '3.4.1',
      ocpp_version: protocol.replace('ocpp', ''),
      error_count_30d: 0,
      last_error: null,
      connectors: [{ connector_id: 1, status: 'Charging', total_sessions: 1, total_energy_kwh: 2.5 }],
    });
    // Registered a moment before it connected: that moment counts as offline (docs/metrics.md), so not quite 100.
    expect(d.body.uptime_30d_percent).toBeGreaterThan(0);
    expect(d.body.uptime_30d_percent).toBeLessThanOrEqual(100);
    const f = await t.api('GET', `/api/v1/cpo/chargers/${ids.faulted}/diagnostics`);
    expect(f.body).toMatchObject({ error_count_30d: 2, open_error_count: 1, last_error: { error_code: 'GroundFailure' } });
    const u = await eventually(() => t.api('GET', `/api/v1/cpo/chargers/${ids.unavailable}/diagnostics`), (x) => x.body.last_heartbeat !== null);
    expect(Date.parse(u.body.last_heartbeat)).toBeGreaterThan(Date.now() - 60_000);
    const never = await t.api('GET', `/api/v1/cpo/chargers/${ids.offline}/diagnostics`);
    expect(never.body).toMatchObject({ ocpp_version: null, last_heartbeat: null, uptime_30d_percent: 0, utilisation_30d_percent: null, connectors: [] });
  });

  it('maintenance: create, list, complete; validation', async () => {
    const cp = ids.available!;
    const created = await t.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, {
      body: { type: 'scheduled', description: 'Quarterly inspection and connector cleaning', scheduled_at: '2024-07-20T09:00:00Z', technician: 'J. Smith' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      charge_point_id: cp,
      type: 'scheduled',
      description: 'Quarterly inspection and connector cleaning',
      scheduled_at: '2024-07-20T09:00:00Z',
      completed_at: null,
      technician: 'J. Smith',
      notes: null,
    });
    expect(created.body.event_id).toMatch(/^mnt_/);
    const list = await t.api('GET', `/api/v1/cpo/chargers/${cp}/maintenance`);
    expect(list.body).toMatchObject({ charge_point_id: cp, events: [{ event_id: created.body.event_id }] });
    const done = await t.api('PATCH', `/api/v1/cpo/chargers/${cp}/maintenance/${created.body.event_id}`, { body: { completed_at: '2024-07-20T11:30:00Z', notes: 'Replaced a seal' } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ completed_at: '2024-07-20T11:30:00Z', notes: 'Replaced a seal', technician: 'J. Smith' });
    const windowed = await t.api('GET', `/api/v1/cpo/chargers/${cp}/maintenance?from=2024-08-01T00:00:00Z`);
    expect(windowed.body.events).toEqual([]);

    const bad: [Record<string, unknown>, string][] = [
      [{ type: 'cosmetic', description: 'x', scheduled_at: '2024-07-20T09:00:00Z' }, 'type'],
      [{ type: 'scheduled', scheduled_at: '2024-07-20T09:00:00Z' }, 'description'],
      [{ type: 'scheduled', description: 'x'.repeat(2001), scheduled_at: '2024-07-20T09:00:00Z' }, 'description'],
      [{ type: 'scheduled', description: 'x', scheduled_at: 'tomorrow' }, 'scheduled_at'],
      [{ type: 'scheduled', description: 'x', scheduled_at: '2024-07-20T09:00:00' }, 'scheduled_at'],
      [{ type: 'scheduled', description: 'x', scheduled_at: '2024-07-20T09:00:00Z', completed_at: '2024-07-19T09:00:00Z' }, 'completed_at'],
    ];
    for (const [body, parameter] of bad) {
      const r = await t.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.parameter).toBe(parameter);
    }
    const early = await t.api('PATCH', `/api/v1/cpo/chargers/${cp}/maintenance/${created.body.event_id}`, { body: { completed_at: '2024-07-01T00:00:00Z' } });
    expect(early.status).toBe(400);
    expect((await t.api('PATCH', `/api/v1/cpo/chargers/${cp}/maintenance/mnt_NOPE`, { body: { notes: 'x' } })).status).toBe(404);
  });

  it("isolates tenants: another tenant's charger is 404 on every charger endpoint and absent from fleet lists", async () => {
    const cp = ids.faulted!;
    for (const path of ['diagnostics', 'connectivity', 'error-history', 'maintenance']) {
      const r = await other.api('GET', `/api/v1/cpo/chargers/${cp}/${path}`);
      expect(r.status, path).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await other.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, { body: { type: 'scheduled', description: 'x', scheduled_at: '2024-07-20T09:00:00Z' } })).status).toBe(404);
    expect((await other.api('GET', `/api/v1/cpo/fleet/chargers`)).body.total).toBe(0);
    const from = encodeURIComponent(isoAgo(3_600_000));
    const to = encodeURIComponent(new Date().toISOString());
    expect((await other.api('GET', `/api/v1/cpo/fleet/uptime?from=${from}&to=${to}&charge_point_id=${cp}`)).body.chargers).toEqual([]);
    expect((await other.api('GET', `/api/v1/cpo/fleet/utilisation?from=${from}&to=${to}&charge_point_id=${cp}`)).body.chargers).toEqual([]);
    expect((await other.api('GET', `/api/v1/cpo/fleet/errors?charge_point_id=${cp}`)).body.total).toBe(0);
    expect((await t.api('GET', '/api/v1/cpo/chargers/NOPE-404/diagnostics')).status).toBe(404);
  });

  it('answers every bad parameter with 400 naming it', async () => {
    const from = '2024-06-01T00:00:00Z';
    const to = '2024-06-30T23:59:59Z';
    const cases: [string, string][] = [
      [`/api/v1/cpo/fleet/uptime?to=${to}`, 'from'],
      [`/api/v1/cpo/fleet/uptime?from=${from}`, 'to'],
      [`/api/v1/cpo/fleet/uptime?from=2024-06-01T00:00:00&to=${to}`, 'from'],
      [`/api/v1/cpo/fleet/uptime?from=yesterday&to=${to}`, 'from'],
      [`/api/v1/cpo/fleet/uptime?from=${to}&to=${from}`, 'to'],
      [`/api/v1/cpo/fleet/uptime?from=2020-01-01T00:00:00Z&to=${to}`, 'to'],
      [`/api/v1/cpo/fleet/uptime?from=${from}&to=${to}&colour=red`, 'colour'],
      [`/api/v1/cpo/fleet/utilisation?from=${from}&to=${to}&granularity=fortnight`, 'granularity'],
      [`/api/v1/cpo/fleet/errors?limit=0`, 'limit'],
      [`/api/v1/cpo/fleet/errors?limit=1001`, 'limit'],
      [`/api/v1/cpo/fleet/errors?offset=-3`, 'offset'],
      [`/api/v1/cpo/fleet/errors?resolved=maybe`, 'resolved'],
      [`/api/v1/cpo/fleet/chargers?status=sleeping`, 'status'],
      [`/api/v1/cpo/chargers/${ids.available}/connectivity?from=nope`, 'from'],
      [`/api/v1/cpo/chargers/${ids.available}/error-history?limit=5000`, 'limit'],
    ];
    for (const [path, parameter] of cases) {
      const r = await t.api('GET', path);
      expect(r.status, path).toBe(400);
      expect(r.body.error.parameter, path).toBe(parameter);
      expect(r.body.error.code).toBe('invalid_parameter');
    }
  });

  it('refuses a utilisation request with an unreasonable number of buckets', async () => {
    // 12 chargers × hourly buckets over 395 days ≈ 114,000 > 100,000.
    for (let i = 0; i < 6; i++) await aCharger(t.api, siteB);
    const r = await t.api('GET', '/api/v1/cpo/fleet/utilisation?from=2024-01-01T00:00:00Z&to=2025-01-30T00:00:00Z&granularity=hour');
    expect(r.status).toBe(400);
    expect(r.body.error.parameter).toBe('granularity');
    expect(r.body.error.message).toContain('100000');
  });
});
