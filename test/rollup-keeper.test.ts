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

  it('seals past hours on its own and the API answers from them; a late message dirties them, the answer stays the direct one, and the keeper rewrites them', async () => {
    const t = await aTenant(svc.url);
    const site = await aSite(t.api);
    const db = svc.service.db;
    const fx = historyFixture(db, t.tenantId, site);
    const now = Date.now();
    const at = (h: number) => new Date(now - h * HOUR);
    const hourOf = (d: Date) => new Date(Math.floor(d.getTime() / HOUR) * HOUR);
    const cp = await fx.charger(uniqueId('RK'), at(30));
    const c1 = await fx.connected(cp, at(30));
    await fx.status(cp, 1, 'Available', at(30));
    await fx.status(cp, 1, 'Faulted', at(20.5), 'GroundFailure');
    await fx.status(cp, 1, 'Available', at(19.25));
    await fx.disconnected(cp, c1, at(10.2));
    await fx.connected(cp, at(9.9));

    const from = at(29.7);
    const to = at(1.1);
    const query = `/api/v1/cpo/fleet/uptime?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&charge_point_id=${cp}`;
    const downtime = async () => {
      const r = await t.api('GET', query);
      expect(r.status).toBe(200);
      return r.body.chargers[0].downtime_minutes as number;
    };
    const direct = async () => (await fleetUptimeDirect(db, { tenantId: t.tenantId, chargePointId: cp }, from, to))[0]!.downtime_minutes;
    const watermark = async () =>
      (await db.query<{ first_hour: Date | null; rolled_until: Date | null; dirty: number }>(
        `SELECT first_hour, rolled_until, (SELECT count(*)::int FROM rollup_dirty d WHERE d.charge_point_id = r.charge_point_id) AS dirty
           FROM rollup_chargers r WHERE charge_point_id = $1`,
        [cp],
      ))[0];
    /** Sealed past the window's last whole hour, with nothing left in the dirty log. */
    const fresh = (w: Awaited<ReturnType<typeof watermark>>) => !!w?.rolled_until && w.rolled_until >= hourOf(to) && w.dirty === 0;
    const hours = async () =>
      new Map((await db.query<{ hour: Date; down_us: string }>('SELECT hour, down_us::text AS down_us FROM rollup_hours WHERE charge_point_id = $1', [cp])).map((r) => [r.hour.getTime(), BigInt(r.down_us)]));
    // Running totals from TAMPER_FROM on raised by an hour of downtime: an answer read from the
    // rollups moves by exactly 60 minutes; one computed from the intervals does not move.
    const TAMPER_FROM = hourOf(at(12));
    const tamper = () => db.query(`UPDATE rollup_hours SET down_us = down_us + 3600000000 WHERE charge_point_id = $1 AND hour >= $2`, [cp, TAMPER_FROM]);

    // The keeper rolls the charger up on its own: one row for every hour from the first, up to the watermark.
    const sealed = (await eventually(watermark, fresh, 30_000))!;
    expect(sealed.first_hour).toEqual(hourOf(at(30)));
    const rolled = await hours();
    expect(rolled.size).toBe((sealed.rolled_until!.getTime() - sealed.first_hour!.getTime()) / HOUR);
    expect(await downtime()).toBe(75 + 18);
    expect(await direct()).toBe(75 + 18);
    await tamper();
    expect(await downtime()).toBe(75 + 18 + 60);

    // A status the charger queued while offline arrives now, 15 hours late, inside sealed hours:
    // from its hour on no rollup row is used (the tampered ones included), so the answer is the direct one at once.
    await fx.status(cp, 1, 'Unavailable', at(15), 'NoError');
    await fx.status(cp, 1, 'Available', at(14.5), 'NoError');
    expect(await downtime()).toBe(75 + 18 + 30);
    expect(await direct()).toBe(75 + 18 + 30);

    // The keeper lowers the watermark to the late change and rewrites the hours from there: before
    // it as they were, from the end of the late half hour on with its 30 minutes, the tampering gone.
    await eventually(watermark, fresh, 30_000);
    const repaired = await hours();
    const lateFrom = hourOf(at(15)).getTime();
    const lateUntil = hourOf(at(14.5)).getTime();
    for (const [hour, down] of rolled) {
      if (hour < lateFrom) expect(repaired.get(hour), new Date(hour).toISOString()).toBe(down);
      else if (hour >= lateUntil) expect(repaired.get(hour), new Date(hour).toISOString()).toBe(down + 1_800_000_000n);
    }
    expect(await downtime()).toBe(75 + 18 + 30);
    // And the answer is read from the rewritten rows again.
    await tamper();
    expect(await downtime()).toBe(75 + 18 + 30 + 60);
  }, 120_000);
});
