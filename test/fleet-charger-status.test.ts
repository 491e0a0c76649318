import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aSite, aTenant, uniqueId, type TenantFixture } from './support/builders.js';
import { historyFixture } from './support/history-fixture.js';
import { dbKind } from './support/database.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

type Reported = [connectorId: number, status: string][];

interface Case {
  name: string;
  reported: Reported;
  /** A session in progress on connector 1. */
  session?: boolean;
  status: 'Available' | 'Charging' | 'Faulted' | 'Unavailable';
  /** Down over the 12 measured hours, worked out from the definition in docs/metrics.md. */
  downMinutes: number;
}

/**
 * Connector 0 is the charger itself (docs/metrics.md): it can make a charger
 * Faulted or Unavailable, never Available. The charger's status, the summary
 * counts, the /chargers status filter and uptime's "down" must tell the same
 * story for the same reported statuses.
 */
const CASES: Case[] = [
  // Connector 1 is taken by a driver: not ready for a new one, yet nothing is broken.
  { name: 'connector 0 Available, connector 1 Preparing', reported: [[0, 'Available'], [1, 'Preparing']], status: 'Unavailable', downMinutes: 0 },
  // Its only connector is out of service: down for the whole 12 hours.
  { name: 'connector 0 Available, connector 1 Unavailable', reported: [[0, 'Available'], [1, 'Unavailable']], status: 'Unavailable', downMinutes: 720 },
  // The whole charger is out of service, whatever its connector says.
  { name: 'connector 0 Unavailable, connector 1 Available', reported: [[0, 'Unavailable'], [1, 'Available']], status: 'Unavailable', downMinutes: 720 },
  { name: 'connector 0 Faulted, connector 1 Available', reported: [[0, 'Faulted'], [1, 'Available']], status: 'Faulted', downMinutes: 720 },
  // One connector of two out of service: still serves drivers.
  { name: 'connector 0 Available, connectors 1 Unavailable and 2 Available', reported: [[0, 'Available'], [1, 'Unavailable'], [2, 'Available']], status: 'Available', downMinutes: 0 },
  { name: 'connector 0 Available, connector 1 Available', reported: [[0, 'Available'], [1, 'Available']], status: 'Available', downMinutes: 0 },
  { name: 'connector 0 Available, connector 1 Charging a session', reported: [[0, 'Available'], [1, 'Charging']], session: true, status: 'Charging', downMinutes: 0 },
  // Taken out of service as a whole: down, so not listed as Charging even with a session still open.
  { name: 'connector 0 Unavailable, connector 1 Charging a session', reported: [[0, 'Unavailable'], [1, 'Charging']], session: true, status: 'Unavailable', downMinutes: 720 },
];

describe(`one charger status, agreeing with uptime's down (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  // Whole minutes, so the 12 measured hours are exactly 720 minutes.
  const now = Math.floor(Date.now() / MIN) * MIN;
  const from = new Date(now - 13 * HOUR);
  const to = new Date(now - HOUR);

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url, 'Status');
  });
  afterAll(() => svc?.close());

  for (const { name, reported, session, status, downMinutes } of CASES) it(`${name} → ${status}, down ${downMinutes} of 720 minutes`, async () => {
    // One site per case, so the summary of that site counts this charger alone.
    const site = await aSite(t.api);
    const fx = historyFixture(svc.service.db, t.tenantId, site);
    const cp = await fx.charger(uniqueId('ST'), new Date(now - 14 * HOUR));
    await fx.connected(cp, new Date(now - 14 * HOUR));
    for (const [connector, s] of reported) {
      await fx.status(cp, connector, s, new Date(now - 14 * HOUR + MIN), s === 'Faulted' ? 'GroundFailure' : 'NoError');
    }
    if (session) await fx.sessionStarted(cp, 1, new Date(now - 14 * HOUR + MIN), 0);

    const listed = await t.api('GET', `/api/v1/cpo/fleet/chargers?site_id=${site}`);
    expect(listed.body.chargers.map((c: any) => [c.charge_point_id, c.status])).toEqual([[cp, status]]);

    const summary = await t.api('GET', `/api/v1/cpo/fleet/summary?site_id=${site}`);
    expect(summary.body).toMatchObject({
      total_chargers: 1,
      online: 1,
      offline: 0,
      charging: status === 'Charging' ? 1 : 0,
      available: status === 'Available' ? 1 : 0,
      faulted: status === 'Faulted' ? 1 : 0,
      unavailable: status === 'Unavailable' ? 1 : 0,
    });

    for (const filter of ['online', 'offline', 'charging', 'available', 'faulted']) {
      const r = await t.api('GET', `/api/v1/cpo/fleet/chargers?site_id=${site}&status=${filter}`);
      const expected = filter === 'online' || filter === status.toLowerCase() ? [cp] : [];
      expect(r.body.chargers.map((c: any) => c.charge_point_id), filter).toEqual(expected);
    }

    const uptime = await t.api('GET', `/api/v1/cpo/fleet/uptime?from=${from.toISOString()}&to=${to.toISOString()}&charge_point_id=${cp}`);
    expect(uptime.body.chargers).toMatchObject([
      { charge_point_id: cp, window_minutes: 720, downtime_minutes: downMinutes, uptime_percent: downMinutes === 0 ? 100 : 0 },
    ]);
    // The agreement itself: a charger listed as Available or Charging is never counted down.
    if (status === 'Available' || status === 'Charging') expect(uptime.body.chargers[0].downtime_minutes).toBe(0);
  });
});
