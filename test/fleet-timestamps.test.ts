import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestService, type TestService } from './support/service.js';
import { apiClient } from './support/http.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { aChargerDriver, type ChargerDriver } from './support/driver.js';
import { eventually } from './support/history.js';
import { dbKind } from './support/database.js';

/** The one format of docs/api.md: ISO 8601, UTC, whole seconds, as the contract writes them. */
const API_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const TIME_KEY = /(^|_)(at|timestamp|from|to|start|seen|heartbeat)$/;
const LOOKS_LIKE_TIME = /^\d{4}-\d{2}-\d{2}T/;

/** Every time in an answer, found by its field name or by its look, with its path. */
function timesIn(v: unknown, path = '$'): [string, string][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => timesIn(x, `${path}[${i}]`));
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).flatMap(([k, x]) => {
      if (typeof x === 'string' && (TIME_KEY.test(k) || LOOKS_LIKE_TIME.test(x))) return [[`${path}.${k}`, x] as [string, string]];
      if (typeof x === 'number' && TIME_KEY.test(k)) return [[`${path}.${k}`, String(x)] as [string, string]];
      return timesIn(x, `${path}.${k}`);
    });
  }
  return [];
}

describe(`every time in an API answer has the one format (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let cp: string;
  let charger: ChargerDriver;
  let maintenanceId: string;
  // Charger times with milliseconds, a few minutes ago.
  const base = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;
  const at = (s: number, ms: number) => new Date(base + s * 1000 + ms).toISOString();

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url, 'Times');
    const site = await aSite(t.api);
    cp = await aCharger(t.api, site);
    charger = await aChargerDriver(svc.wsUrl, cp, 'ocpp1.6');
    await charger.boot('ABB', 'Terra AC', '3.4.1');
    await charger.heartbeat();
    await charger.status(1, 'Available', { at: at(0, 123) });
    await charger.status(1, 'Faulted', { errorCode: 'GroundFailure', info: 'RCD tripped', at: at(10, 456) });
    await charger.status(1, 'Available', { at: at(20, 789) });
    await charger.status(0, 'Faulted', { errorCode: 'HighTemperature', info: 'Power module at 87 C', at: at(30, 999) });
    await eventually(() => t.api('GET', `/api/v1/cpo/chargers/${cp}/diagnostics`), (r) => r.body.last_heartbeat !== null);
  });
  afterAll(async () => {
    await charger?.client.close({ force: true }).catch(() => undefined);
    await svc?.close();
  });

  // from/to sent with an offset and milliseconds: answered in UTC, whole seconds.
  const inPlusTwo = (ms: number) => new Date(ms + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
  const from = encodeURIComponent(inPlusTwo(base - 3_600_000 + 500));
  const to = encodeURIComponent(new Date(base + 3_600_000).toISOString());

  /** Each endpoint of the contract: its answer, and how many times it holds at least (so the walk is never vacuous). */
  const answers = (): [string, () => Promise<{ status: number; body: any }>, number][] => [
    ['summary', () => t.api('GET', '/api/v1/cpo/fleet/summary'), 0],
    ['uptime', () => t.api('GET', `/api/v1/cpo/fleet/uptime?from=${from}&to=${to}`), 2],
    ['utilisation', () => t.api('GET', `/api/v1/cpo/fleet/utilisation?from=${from}&to=${to}&granularity=hour`), 4],
    ['errors', () => t.api('GET', `/api/v1/cpo/fleet/errors?from=${from}`), 3],
    ['chargers', () => t.api('GET', '/api/v1/cpo/fleet/chargers'), 2],
    ['diagnostics', () => t.api('GET', `/api/v1/cpo/chargers/${cp}/diagnostics`), 3],
    ['connectivity', () => t.api('GET', `/api/v1/cpo/chargers/${cp}/connectivity`), 1],
    ['error-history', () => t.api('GET', `/api/v1/cpo/chargers/${cp}/error-history`), 3],
    ['maintenance create', async () => {
      const r = await t.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, {
        body: { type: 'reactive', description: 'Replace RCD', scheduled_at: '2024-07-20T11:00:00.250+02:00', completed_at: '2024-07-20T09:30:00.999Z' },
      });
      maintenanceId = r.body.event_id;
      return r;
    }, 4],
    ['maintenance update', () => t.api('PATCH', `/api/v1/cpo/chargers/${cp}/maintenance/${maintenanceId}`, { body: { notes: 'Tested OK' } }), 4],
    ['maintenance list', () => t.api('GET', `/api/v1/cpo/chargers/${cp}/maintenance`), 4],
    // Beyond the fleet API: the one format holds for the whole API.
    ['sites', () => t.api('GET', '/api/v1/cpo/sites'), 1],
    ['charger', () => t.api('GET', `/api/v1/cpo/chargers/${cp}`), 1],
    ['tenants (admin)', () => apiClient(svc.url, ADMIN_KEY)('GET', '/api/v1/admin/tenants'), 1],
  ];

  it('walks every timestamp field of every fleet endpoint answer, and of the other routes', async () => {
    const seen: Record<string, number> = {};
    for (const [name, call, atLeast] of answers()) {
      const r = await call();
      expect(r.status, name).toBeLessThan(300);
      const times = timesIn(r.body);
      for (const [path, value] of times) expect(value, `${name} ${path}`).toMatch(API_TIME);
      seen[name] = times.length;
      expect(times.length, `${name}: timestamps found`).toBeGreaterThanOrEqual(atLeast);
    }
    expect(Object.keys(seen)).toHaveLength(14);
  });

  it('writes the instant itself: in UTC, milliseconds cut', async () => {
    const u = await t.api('GET', `/api/v1/cpo/fleet/uptime?from=${from}&to=${to}`);
    expect(u.body.period).toEqual({ from: `${new Date(base - 3_600_000).toISOString().slice(0, 19)}Z`, to: `${new Date(base + 3_600_000).toISOString().slice(0, 19)}Z` });
    const e = await t.api('GET', `/api/v1/cpo/chargers/${cp}/error-history`);
    expect(e.body.errors.map((x: any) => [x.error_code, x.timestamp, x.resolved_at])).toEqual([
      ['HighTemperature', at(30, 0).replace('.000Z', 'Z'), null],
      ['GroundFailure', at(10, 0).replace('.000Z', 'Z'), at(20, 0).replace('.000Z', 'Z')],
    ]);
    const m = await t.api('GET', `/api/v1/cpo/chargers/${cp}/maintenance`);
    expect(m.body.events[0]).toMatchObject({ scheduled_at: '2024-07-20T09:00:00Z', completed_at: '2024-07-20T09:30:00Z' });
  });
});
