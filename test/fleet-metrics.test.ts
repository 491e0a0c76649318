import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aSite, aTenant, uniqueId, type TenantFixture } from './support/builders.js';
import { historyFixture } from './support/history-fixture.js';
import { dbKind } from './support/database.js';

const MIN = 60_000;
const DAY = 86_400_000;

/**
 * Uptime, utilisation and energy over days of history written with chosen
 * timestamps; every expected figure is worked out by hand in the test.
 */
describe(`fleet metrics over known history (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;
  let fx: ReturnType<typeof historyFixture>;
  // A fixed day well in the past, at 00:00 UTC, a Wednesday: 2025-06-04.
  const D = Date.parse('2025-06-04T00:00:00Z');
  const at = (days: number, minutes = 0) => new Date(D + days * DAY + minutes * MIN);
  const iso = (d: Date) => d.toISOString();
  // How the API writes times (docs/api.md): UTC, whole seconds.
  const apiTime = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url);
    site = await aSite(t.api);
    fx = historyFixture(svc.service.db, t.tenantId, site);
  });
  afterAll(() => svc?.close());

  it('uptime: an offline gap, a whole-charger fault, one connector of two, both connectors, and maintenance', async () => {
    const cp = await fx.charger(uniqueId('UP'), at(-10));
    const c1 = await fx.connected(cp, at(-10));
    await fx.status(cp, 1, 'Available', at(-10));
    await fx.status(cp, 2, 'Available', at(-10));
    // Offline for 90 minutes on day 1.
    await fx.disconnected(cp, c1, at(1, 600));
    const c2 = await fx.connected(cp, at(1, 690));
    // Connector 0 (the whole charger) Faulted for 30 minutes on day 2.
    await fx.status(cp, 0, 'Faulted', at(2, 100), 'GroundFailure');
    await fx.status(cp, 0, 'Available', at(2, 130));
    // Only connector 1 faulted for 60 minutes: not down.
    await fx.status(cp, 1, 'Faulted', at(2, 300), 'ConnectorLockFailure');
    await fx.status(cp, 1, 'Available', at(2, 360));
    // Both connectors unavailable/faulted: overlap 20 minutes (connector 1 400–440, connector 2 420–500).
    await fx.status(cp, 1, 'Unavailable', at(2, 400));
    await fx.status(cp, 2, 'Faulted', at(2, 420), 'HighTemperature');
    await fx.status(cp, 1, 'Available', at(2, 440));
    await fx.status(cp, 2, 'Available', at(2, 500));
    // Maintenance covers 10 of the 30 fault minutes (2:120–2:200).
    const m = await t.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, {
      body: { type: 'reactive', description: 'Ground fault repair', scheduled_at: iso(at(2, 120)), completed_at: iso(at(2, 200)) },
    });
    expect(m.status).toBe(201);
    void c2;

    const r = await t.api('GET', `/api/v1/cpo/fleet/uptime?from=${iso(at(0))}&to=${iso(at(4))}&charge_point_id=${cp}`);
    expect(r.status).toBe(200);
    expect(r.body.period).toEqual({ from: apiTime(at(0)), to: apiTime(at(4)) });
    const down = 90 + 30 + 20;
    expect(r.body.chargers).toEqual([
      {
        charge_point_id: cp,
        site_id: site,
        downtime_minutes: down,
        excluded_downtime_minutes: 10,
        window_minutes: 4 * 1440,
        uptime_percent: Math.round(1000 * (1 - down / (4 * 1440))) / 10, // 97.6
      },
    ]);
    expect(r.body.chargers[0].uptime_percent).toBe(97.6);
  });

  it('uptime: clipped to registration mid-period; a period in the future has no window', async () => {
    const cp = await fx.charger(uniqueId('MID'), at(1, 720)); // registered at noon on day 1
    await fx.connected(cp, at(1, 720));
    const r = await t.api('GET', `/api/v1/cpo/fleet/uptime?from=${iso(at(1))}&to=${iso(at(2))}&charge_point_id=${cp}`);
    expect(r.body.chargers[0]).toMatchObject({ window_minutes: 720, downtime_minutes: 0, uptime_percent: 100 });

    const never = await fx.charger(uniqueId('OFF'), at(1));
    const off = await t.api('GET', `/api/v1/cpo/fleet/uptime?from=${iso(at(1))}&to=${iso(at(2))}&charge_point_id=${never}`);
    expect(off.body.chargers[0]).toMatchObject({ window_minutes: 1440, downtime_minutes: 1440, uptime_percent: 0 });

    const future = new Date(Date.now() + 10 * DAY);
    const f = await t.api('GET', `/api/v1/cpo/fleet/uptime?from=${iso(future)}&to=${iso(new Date(future.getTime() + DAY))}&charge_point_id=${cp}`);
    expect(f.body.chargers[0]).toMatchObject({ window_minutes: 0, downtime_minutes: 0, uptime_percent: null });
  });

  it('utilisation: charging ÷ online per UTC day, null when never online; week buckets start Monday, months on the 1st', async () => {
    const cp = await fx.charger(uniqueId('UT'), at(-30));
    const c = await fx.connected(cp, at(0)); // online from day 0 00:00
    await fx.status(cp, 1, 'Available', at(0));
    // Day 0: charging 06:00–12:00 (6 h of 24 online) → 25.0.
    await fx.status(cp, 1, 'Charging', at(0, 360));
    await fx.status(cp, 1, 'Available', at(0, 720));
    // Day 1: online only until 12:00, charging 11:00–13:00 (only 1 h while online) → 1/12 → 8.3.
    await fx.status(cp, 1, 'Charging', at(1, 660));
    await fx.status(cp, 1, 'Available', at(1, 780));
    await fx.disconnected(cp, c, at(1, 720));
    // Day 2: never online → null.
    const r = await t.api('GET', `/api/v1/cpo/fleet/utilisation?from=${iso(at(0))}&to=${iso(at(3))}&charge_point_id=${cp}`);
    expect(r.status).toBe(200);
    expect(r.body.granularity).toBe('day');
    expect(r.body.chargers).toHaveLength(1);
    expect(r.body.chargers[0].buckets.map((b: any) => [b.period_start, b.utilisation_percent])).toEqual([
      [apiTime(at(0)), 25],
      [apiTime(at(1)), 8.3],
      [apiTime(at(2)), null],
    ]);

    // 2025-06-04 is a Wednesday: the ISO week starts Monday 2025-06-02, and only the part inside [from, to] counts.
    const w = await t.api('GET', `/api/v1/cpo/fleet/utilisation?from=${iso(at(0))}&to=${iso(at(3))}&charge_point_id=${cp}&granularity=week`);
    expect(w.body.chargers[0].buckets).toEqual([
      { period_start: '2025-06-02T00:00:00Z', utilisation_percent: Math.round((1000 * 7) / 36) / 10, charging_minutes: 420, online_minutes: 2160 },
    ]);
    const mo = await t.api('GET', `/api/v1/cpo/fleet/utilisation?from=2025-05-20T00:00:00Z&to=2025-06-10T00:00:00Z&charge_point_id=${cp}&granularity=month`);
    expect(mo.body.chargers[0].buckets.map((b: any) => [b.period_start, b.utilisation_percent])).toEqual([
      ['2025-05-01T00:00:00Z', null],
      ['2025-06-01T00:00:00Z', 19.4],
    ]);
    const h = await t.api('GET', `/api/v1/cpo/fleet/utilisation?from=${iso(at(0, 300))}&to=${iso(at(0, 420))}&charge_point_id=${cp}&granularity=hour`);
    expect(h.body.chargers[0].buckets.map((b: any) => b.utilisation_percent)).toEqual([0, 100]);
  });

  it('energy today counts a session across UTC midnight from the midnight reading, in progress included', async () => {
    const now = Date.now();
    const midnight = new Date(Math.floor(now / DAY) * DAY);
    const tenant = await aTenant(svc.url, 'Energy');
    const s = await aSite(tenant.api);
    const f = historyFixture(svc.service.db, tenant.tenantId, s);
    const cp = await f.charger(uniqueId('EN'), new Date(midnight.getTime() - 2 * DAY));
    // Yesterday's session, finished before midnight: not today.
    const old = await f.sessionStarted(cp, 1, new Date(midnight.getTime() - 5 * 3_600_000), 0);
    await f.sessionEnded(cp, old, new Date(midnight.getTime() - 4 * 3_600_000), 20_000);
    // Across midnight and still running: 10,000 Wh at 23:50, 15,500 Wh now.
    const tx = await f.sessionStarted(cp, 2, new Date(midnight.getTime() - 20 * MIN), 8_000);
    await f.meter(cp, 2, tx, new Date(midnight.getTime() - 10 * MIN), 10_000);
    await f.meter(cp, 2, tx, new Date(now - 1000), 15_500);
    const r = await tenant.api('GET', '/api/v1/cpo/fleet/summary');
    expect(r.body.total_energy_today_kwh).toBe(5.5);
    expect(r.body.active_sessions).toBe(1);
    await f.status(cp, 1, 'Available', new Date(now - 2000));
    await f.status(cp, 2, 'Charging', new Date(now - 2000));
    const d = await tenant.api('GET', `/api/v1/cpo/chargers/${cp}/diagnostics`);
    expect(d.status).toBe(200);
    // All time, per connector: connector 1 one completed session of 20 kWh; connector 2 one in progress, 7.5 kWh so far.
    expect(d.body.connectors).toEqual([
      { connector_id: 1, status: 'Available', total_sessions: 1, total_energy_kwh: 20 },
      { connector_id: 2, status: 'Charging', total_sessions: 1, total_energy_kwh: 7.5 },
    ]);
  });
});
