import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { aChargerDriver, type Protocol } from './support/driver.js';
import { dbKind } from './support/database.js';
import { eventually } from './support/history.js';

const apiTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const minutes = (ms: number) => ms / 60_000;

/**
 * Outages as real chargers cause them over real WebSockets: a port faulted with an error code,
 * a port unavailable, the charger offline. Status times are the charger's (sent a few seconds
 * ahead, as OCPP allows up to 5 minutes), connection times the server's, read back from the
 * connectivity timeline.
 */
describe(`reliability from real chargers (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url);
    site = await aSite(t.api);
  });
  afterAll(() => svc?.close());

  it.each<[Protocol, string]>([
    ['ocpp1.6', 'GroundFailure'],
    ['ocpp2.0.1', 'GF-42'],
  ])('%s: port faulted with its error code, port unavailable, charger offline', async (protocol, code) => {
    const cp = await aCharger(t.api, site);
    const registered = Date.parse((await t.api('GET', `/api/v1/cpo/chargers/${cp}`)).body.registered_at);
    let driver = await aChargerDriver(svc.wsUrl, cp, protocol);
    await driver.boot('Acme', 'DC150', '1.0');
    // Whole seconds, after registration, so the API's times (whole seconds) are exact.
    const t0 = Math.ceil(Date.now() / 1000) * 1000 + 2000;
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    await driver.status(1, 'Available', { at: at(0) });
    await driver.status(2, 'Available', { at: at(0) });
    await driver.status(1, 'Faulted', { errorCode: code, at: at(1000) });
    await driver.status(2, 'Unavailable', { at: at(2000) });
    await driver.status(2, 'Available', { at: at(3000) });
    await driver.status(1, 'Available', { at: at(4000) });
    // Offline once the statuses are in the past: close, wait, come back.
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 4500 - Date.now())));
    await driver.close();
    await eventually(
      async () => (await t.api('GET', `/api/v1/cpo/chargers/${cp}/connectivity`)).body.events.at(-1)?.type,
      (type) => type === 'disconnected',
      20_000,
    );
    await new Promise((r) => setTimeout(r, 1200));
    driver = await aChargerDriver(svc.wsUrl, cp, protocol);
    await driver.boot('Acme', 'DC150', '1.0');
    const timeline = (await t.api('GET', `/api/v1/cpo/chargers/${cp}/connectivity`)).body.events;
    // Oldest first: connected, disconnected, connected.
    expect(timeline.map((e: any) => e.type)).toEqual(['connected', 'disconnected', 'connected']);
    const down = Date.parse(timeline[1].timestamp);
    const up = Date.parse(timeline[2].timestamp);
    await new Promise((r) => setTimeout(r, 1100));
    const to = Math.floor(Date.now() / 1000) * 1000;
    const q = `from=${apiTime(registered - 3_600_000)}&to=${apiTime(to)}&charge_point_id=${cp}`;

    const outages = (await t.api('GET', `/api/v1/cpo/reliability/outages?${q}`)).body.outages;
    expect(outages.map((o: any) => [o.connector_id, o.cause, o.error_code, o.started_at, o.ended_at])).toEqual([
      [1, 'port_faulted', code, apiTime(t0 + 1000), apiTime(t0 + 4000)],
      [1, 'charger_offline', null, apiTime(down), apiTime(up)],
      [2, 'port_unavailable', null, apiTime(t0 + 2000), apiTime(t0 + 3000)],
      [2, 'charger_offline', null, apiTime(down), apiTime(up)],
    ]);

    // The ports' history: in service from their first status; down = fault (3 s) or unavailable (1 s) + offline.
    const ports = (await t.api('GET', `/api/v1/cpo/reliability/ports?${q}`)).body.ports;
    expect(ports.map((p: any) => [p.connector_id, p.in_service_since, p.outage_count])).toEqual([
      [1, apiTime(t0), 2],
      [2, apiTime(t0), 2],
    ]);
    // Connection times carry milliseconds the API does not show: compare to 0.01 minute.
    const offline = minutes(up - down);
    expect(ports[0].window_minutes).toBeCloseTo(minutes(to - t0), 2);
    expect(ports[0].downtime_minutes).toBeCloseTo(minutes(3000) + offline, 1);
    expect(ports[1].downtime_minutes).toBeCloseTo(minutes(1000) + offline, 1);

    // Excluding the offline outage (a utility interruption) lifts NEVI uptime, not operational.
    await t.api('PUT', `/api/v1/cpo/reliability/outages/${outages[1].outage_id}/exclusion`, { body: { reason: 'utility_interruption' } });
    const nevi = (await t.api('GET', `/api/v1/cpo/reliability/report?regime=nevi&${q}`)).body.ports[0];
    const op = (await t.api('GET', `/api/v1/cpo/reliability/report?regime=operational&${q}`)).body.ports[0];
    expect(nevi.excluded_minutes).toBeCloseTo(nevi.outage_minutes - minutes(3000), 2);
    expect(op.excluded_minutes).toBe(0);
    expect(nevi.uptime_percent).toBeGreaterThan(op.uptime_percent);
    await driver.close();
  });
});
