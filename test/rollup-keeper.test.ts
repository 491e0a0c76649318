import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aSite, aTenant, uniqueId } from './support/builders.js';
import { historyFixture } from './support/history-fixture.js';
import { eventually } from './support/history.js';
import { dbKind } from './support/database.js';
import { fleetUptimeDirect } from '../src/fleet/uptime.js';

const HOUR = 3_600_000;

/** The service keeps the rollups itself (DYNAMO_ROLLUP_INTERVAL), and the API answers from them what it answered without. */
describe(`rollup maintenance in the running service (${dbKind})`, () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ DYNAMO_ROLLUP_INTERVAL: '1' });
  });
  afterAll(() => svc?.close());

  it('seals past hours on its own; a late message reopens them and the answer stays the direct one', async () => {
    const t = await aTenant(svc.url);
    const site = await aSite(t.api);
    const fx = historyFixture(svc.service.db, t.tenantId, site);
    const now = Date.now();
    const at = (h: number) => new Date(now - h * HOUR);
    const cp = await fx.charger(uniqueId('RK'), at(30));
    const c1 = await fx.connected(cp, at(30));
    await fx.status(cp, 1, 'Available', at(30));
    await fx.status(cp, 1, 'Faulted', at(20.5), 'GroundFailure');
    await fx.status(cp, 1, 'Available', at(19.25));
    await fx.disconnected(cp, c1, at(10.2));
    await fx.connected(cp, at(9.9));

    const rows = () => svc.service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM rollup_hours WHERE charge_point_id = $1', [cp]);
    await eventually(rows, (r) => (r[0]?.n ?? 0) >= 29, 30_000);
    const from = at(29.7).toISOString();
    const to = at(1.1).toISOString();
    const query = `/api/v1/cpo/fleet/uptime?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&charge_point_id=${cp}`;
    const expected = async () => (await fleetUptimeDirect(svc.service.db, { tenantId: t.tenantId, chargePointId: cp }, new Date(from), new Date(to)))[0];
    const before = await t.api('GET', query);
    expect(before.status).toBe(200);
    expect(before.body.chargers[0]).toMatchObject({ downtime_minutes: (await expected())!.downtime_minutes, uptime_percent: (await expected())!.uptime_percent });
    expect(before.body.chargers[0].downtime_minutes).toBe(Math.round(75 + 18));

    // A status the charger queued while offline arrives now, 15 hours late, inside sealed hours.
    await fx.status(cp, 1, 'Unavailable', at(15), 'NoError');
    await fx.status(cp, 1, 'Available', at(14.5), 'NoError');
    const dirty = await t.api('GET', query);
    expect(dirty.body.chargers[0].downtime_minutes).toBe(Math.round(75 + 18 + 30));
    expect(dirty.body.chargers[0]).toMatchObject({ downtime_minutes: (await expected())!.downtime_minutes });
    // The keeper repairs the hours it touched; the answer does not move.
    await eventually(() => svc.service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM rollup_dirty'), (r) => r[0]?.n === 0, 30_000);
    const repaired = await t.api('GET', query);
    expect(repaired.body.chargers[0]).toEqual(dirty.body.chargers[0]);
  }, 120_000);
});
