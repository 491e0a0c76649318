import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/store/db.js';
import type { ChargerEvent } from '../src/ingest/events.js';
import { applyBatch } from '../src/ingest/batch.js';
import { openDatabase } from '../src/store/open.js';
import { migrate } from '../src/store/migrate.js';
import { createTenant } from '../src/store/tenants.js';
import { createSite } from '../src/store/sites.js';
import { insertCharger } from '../src/store/chargers.js';
import { createMaintenance, updateMaintenance } from '../src/store/maintenance.js';
import { refreshRollupsFully } from '../src/store/rollups.js';
import { uptimeSeconds } from '../src/fleet/uptime.js';
import { loadConfig } from '../src/config.js';
import { utilisationSeconds, type Granularity } from '../src/fleet/utilisation.js';
import { Random } from '../src/sim/random.js';
import { dbKind, freshPostgresUrl } from './support/database.js';

/**
 * The rollups change how uptime and utilisation are computed, never what they are: for random
 * histories (messages late, out of order, replayed and back-dated, reconnects without a disconnect,
 * faults and sessions across hours, maintenance windows edited afterwards) every answer read through
 * the rollups equals the direct computation from the intervals to the millisecond, at every stage:
 * before any rollup exists, after a refresh, after late messages dirtied it, and after the refresh
 * that repairs it. Seeds: ROLLUP_PROPERTY_SEEDS (default 6 in npm test; e.g. 2000 for the long run,
 * docs/metrics.md), starting at ROLLUP_PROPERTY_FIRST_SEED (default 1).
 */
const SEEDS = Number(process.env.ROLLUP_PROPERTY_SEEDS ?? 6);
const FIRST = Number(process.env.ROLLUP_PROPERTY_FIRST_SEED ?? 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const GRANULARITIES: (Granularity | null)[] = [null, 'hour', 'day', 'week', 'month'];

/** The most recent UTC week or month start (`week`, `month`) at least `before` ms ago. */
function lastStart(unit: 'week' | 'month', before: number): number {
  const d = new Date(Date.now() - before);
  return unit === 'month' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
}

/**
 * Where a seed's history lies: one seed in three across the last month start, one across the last
 * week start (so week and month buckets have a boundary inside the rolled-up hours on any date the
 * test runs), the others ending a few hours ago; 20 to 60 hours long.
 */
function historySpan(rnd: Random, seed: number): { start: number; end: number } {
  const unit = (['month', 'week', null] as const)[seed % 3];
  if (unit) {
    const anchor = lastStart(unit, 30 * HOUR);
    return { start: anchor - rnd.between(4, 20) * HOUR, end: anchor + rnd.between(16, 26) * HOUR };
  }
  const end = Date.now() - 2 * HOUR - rnd.between(0, 3 * HOUR);
  return { start: end - rnd.between(20, 60) * HOUR, end };
}

interface Delivery {
  events: ChargerEvent[];
  /** The connection it closes or opens, for Disconnected events, resolved at delivery. */
  connection?: number;
}

/** A random history of one charger over ~50 hours ending at least an hour ago, as the messages that deliver it. */
function randomHistory(rnd: Random, cp: string, start: number, end: number) {
  const connectors = rnd.pick([1, 2, 3]);
  const statuses = ['Available', 'Charging', 'Faulted', 'Unavailable', 'Preparing', 'Finishing'];
  const at = (t: number) => new Date(Math.round(t));
  const status = (connectorId: number, s: string, t: number): ChargerEvent => ({
    type: 'StatusChanged', cp, connectorId, evseId: null, status: s, errorCode: s === 'Faulted' ? rnd.pick(['GroundFailure', 'HighTemperature']) : 'NoError',
    info: null, vendorId: null, vendorErrorCode: null, chargerTime: at(t), at: at(t), receivedAt: at(t),
  });
  // Connections in time order (some reconnect without a disconnect first: the new one ends the old).
  const connections: { from: number; to: number | null }[] = [];
  for (let t = start + rnd.between(-HOUR, 2 * HOUR); t < end; ) {
    const len = rnd.pick([rnd.between(1, 30) * MIN, rnd.between(1, 20) * HOUR]);
    const closed = t + len < end && rnd.chance(0.8);
    connections.push({ from: t, to: closed ? t + len : null });
    t += len + (closed ? rnd.pick([rnd.between(0.1, 10) * MIN, rnd.between(1, 5) * HOUR]) : rnd.between(1, 60) * MIN);
  }
  const conn: Delivery[] = [];
  for (const c of connections) {
    conn.push({ events: [{ type: 'Connected', cp, at: at(c.from), nodeId: 'prop', ocppVersion: '1.6', remoteAddress: null }] });
    if (c.to !== null) conn.push({ events: [{ type: 'Disconnected', cp, connectionId: 0, at: at(c.to), reason: 'closed_by_charger' }] });
  }
  // Status reports per connector (0 is the whole charger), at random times, some at the same instant.
  const reports: { t: number; e: ChargerEvent }[] = [];
  for (let k = 0; k <= connectors; k++) {
    for (let t = start + rnd.between(-HOUR, HOUR); t < end; t += rnd.pick([rnd.between(1, 90) * MIN, rnd.between(1, 12) * HOUR, 0])) {
      const s = k === 0 ? rnd.pick(['Available', 'Available', 'Faulted', 'Unavailable']) : rnd.pick(statuses);
      reports.push({ t, e: status(k, s, t) });
    }
  }
  reports.sort((a, b) => a.t - b.t);
  return { conn, reports: reports.map((r) => ({ events: [r.e] })) };
}

/** Deliveries in an order a charger fleet produces: mostly in order, some held back (offline queues), some sent twice. */
function shuffleLate(rnd: Random, ds: Delivery[]): Delivery[] {
  const out: Delivery[] = [];
  const held: Delivery[] = [];
  for (const d of ds) {
    if (rnd.chance(0.15)) held.push(d);
    else out.push(d);
    if (rnd.chance(0.05)) out.push(d);
    if (held.length && rnd.chance(0.1)) out.push(...held.splice(0));
  }
  return [...out, ...held];
}

describe(`rollups equal the direct computation (${dbKind}, ${SEEDS} seeds from ${FIRST})`, () => {
  let db: Db;
  let release: () => Promise<void>;
  let drop: (() => Promise<void>) | undefined;
  let dataDir: string;
  let tenantId: string;
  let siteId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dynamo-rollup-'));
    const pg = await freshPostgresUrl();
    drop = pg?.drop;
    ({ db, release } = await openDatabase({ databaseUrl: pg?.url, dataDir, poolSize: 2 }));
    await migrate(db);
    tenantId = (await createTenant(db, 'Rollups')).tenant_id;
    siteId = (await createSite(db, tenantId, { name: 'Property' })).site_id;
  }, 120_000);
  afterAll(async () => {
    await release?.();
    await drop?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Compares every figure for one charger over random windows; returns how many figures were compared. */
  async function compare(rnd: Random, cp: string, start: number, end: number, stage: string): Promise<number> {
    const scope = { tenantId, chargePointId: cp };
    let n = 0;
    const windows: [number, number][] = [
      [start - 2 * HOUR, end + HOUR],
      [Math.floor(start / HOUR) * HOUR, Math.floor(end / HOUR) * HOUR],
    ];
    for (let i = 0; i < 4; i++) {
      const a = rnd.between(start - 3 * HOUR, end);
      const b = rnd.chance(0.2) ? a + rnd.between(0, 50) * MIN : rnd.between(a, end + HOUR);
      windows.push([a, b]);
    }
    for (const [w, [a, b]] of windows.entries()) {
      const from = new Date(Math.round(a));
      const to = new Date(Math.round(b));
      // Both ways of reading the rows (rollup.ts ReadPath): the one a fleet takes and the one a few chargers take.
      for (const path of ['fleet', 'charger'] as const) {
        const [viaRollups] = await uptimeSeconds(db, scope, from, to, { path });
        const [direct] = await uptimeSeconds(db, scope, from, to, { direct: true, path: 'charger' }); // every row of the charger: the definition
        const where = `${stage}: uptime (${path}) ${from.toISOString()} – ${to.toISOString()}`;
        expect(Math.abs(viaRollups!.window_s - direct!.window_s), where).toBeLessThan(0.001);
        expect(Math.abs(viaRollups!.down_s - direct!.down_s), `${where} down ${viaRollups!.down_s} vs ${direct!.down_s}`).toBeLessThan(0.001);
        expect(Math.abs(viaRollups!.excluded_s - direct!.excluded_s), `${where} excluded`).toBeLessThan(0.001);
        n += 3;
      }
      // Utilisation: the whole history in every granularity, the other windows in one each.
      for (const granularity of w === 0 ? GRANULARITIES : [rnd.pick(GRANULARITIES)]) {
        const u = await utilisationSeconds(db, scope, from, to, granularity);
        const ud = await utilisationSeconds(db, scope, from, to, granularity, { direct: true });
        const where = `${stage}: utilisation ${granularity} ${from.toISOString()} – ${to.toISOString()}`;
        expect(u.map((r) => r.period_start.getTime()), `${where} buckets`).toEqual(ud.map((r) => r.period_start.getTime()));
        u.forEach((r, i) => {
          const d = ud[i]!;
          const at = `${where}: bucket ${r.period_start.toISOString()}`;
          expect(Math.abs(r.online_s - d.online_s), `${at} online ${r.online_s} vs ${d.online_s}`).toBeLessThan(0.001);
          expect(Math.abs(r.charging_s - d.charging_s), `${at} charging ${r.charging_s} vs ${d.charging_s}`).toBeLessThan(0.001);
          n += 2;
        });
      }
    }
    return n;
  }

  async function deliver(cp: string, ds: Delivery[], openConnection: { id: number }) {
    for (const d of ds) {
      const events = d.events.map((e) => (e.type === 'Disconnected' ? { ...e, connectionId: openConnection.id } : e));
      const [results] = (await applyBatch(db, [events])).results;
      if (events[0]!.type === 'Connected') openConnection.id = results![0]!.connectionId!;
    }
  }

  /**
   * A charger of `owner` with seed's random history, delivered in stages (part of it, rolled up, the
   * rest late into rolled-up hours with maintenance, repaired); `check` runs at each stage and
   * returns how many figures it compared.
   */
  async function chargerWithHistory(
    seed: number,
    owner: { tenantId: string; siteId: string },
    cp: string,
    check: (rnd: Random, start: number, end: number, stage: string) => Promise<number> = async () => 0,
  ): Promise<number> {
    let compared = 0;
    const rnd = new Random(seed);
    const { start, end } = historySpan(rnd, seed);
    await insertCharger(db, { chargePointId: cp, tenantId: owner.tenantId, siteId: owner.siteId, passwordHash: null, registeredAt: new Date(start - rnd.between(0, 3) * HOUR) });
    const { conn, reports } = randomHistory(rnd, cp, start, end);
    const statusOrder = shuffleLate(rnd, reports);
    const cut = Math.floor(statusOrder.length * rnd.between(0.3, 0.9));
    const open = { id: 0 };

    // Stage 1: part of the history, nothing rolled up yet.
    await deliver(cp, conn.slice(0, Math.ceil(conn.length / 2)), open);
    await deliver(cp, statusOrder.slice(0, cut), open);
    compared += await check(rnd, start, end, `seed ${seed} before any rollup`);
    // Stage 2: rolled up.
    await refreshRollupsFully(db, new Date());
    compared += await check(rnd, start, end, `seed ${seed} rolled up`);
    // Stage 3: the rest arrives late (back-dated into rolled-up hours), maintenance is recorded and edited.
    await deliver(cp, conn.slice(Math.ceil(conn.length / 2)), open);
    await deliver(cp, statusOrder.slice(cut), open);
    const m1 = rnd.between(start, end);
    const m = await createMaintenance(db, cp, { type: 'reactive', description: 'property', scheduled_at: new Date(m1), completed_at: new Date(m1 + rnd.between(10, 600) * MIN) });
    if (rnd.chance(0.5)) await updateMaintenance(db, cp, m.event_id, { completed_at: new Date(m1 + rnd.between(1, 300) * MIN) });
    compared += await check(rnd, start, end, `seed ${seed} dirtied by late messages`);
    // Stage 4: repaired.
    await refreshRollupsFully(db, new Date());
    compared += await check(rnd, start, end, `seed ${seed} repaired`);
    const [{ n } = { n: 0 }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM rollup_hours WHERE charge_point_id = $1', [cp]);
    expect(n, `seed ${seed}: the rollups were used`).toBeGreaterThan(0);
    return compared;
  }

  it('for every seed, at every stage', async () => {
    let compared = 0;
    for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
      const cp = `PROP-${seed}-${Math.random().toString(36).slice(2, 6)}`;
      compared += await chargerWithHistory(seed, { tenantId, siteId }, cp, (rnd, start, end, stage) => compare(rnd, cp, start, end, stage));
    }
    expect(compared).toBeGreaterThan(SEEDS * 50);
    // A seed takes 1–4 s here (docs/metrics.md); the long run (thousands of seeds) must not hit a fixed timeout.
  }, Math.max(600_000, SEEDS * 15_000));

  it('a fleet computed in parts (ranges of charger ids, run at once) gives the same rows in the same order, uptime and utilisation', async () => {
    // The API runs uptime in DYNAMO_FLEET_QUERY_PARTS parts on PostgreSQL (2 unless set).
    expect(loadConfig({}).fleetQueryParts).toBe(2);
    expect(() => loadConfig({ DYNAMO_FLEET_QUERY_PARTS: '0' })).toThrow(/DYNAMO_FLEET_QUERY_PARTS/);
    // A fleet of its own: two sites, ids of mixed case and punctuation (the cut follows the database's order of ids).
    const own = (await createTenant(db, 'Parts')).tenant_id;
    const sites = [(await createSite(db, own, { name: 'North' })).site_id, (await createSite(db, own, { name: 'South' })).site_id];
    const FLEET = 8;
    for (let i = 0; i < FLEET; i++) {
      await chargerWithHistory(10_000 + FIRST + i, { tenantId: own, siteId: sites[i % 2]! }, `${['a', 'B', 'c.', 'D_'][i % 4]}parts-${i}`);
    }
    for (const scope of [{ tenantId: own }, { tenantId: own, siteId: sites[0] }]) await compareParts(scope, scope.siteId ? FLEET / 2 : FLEET);
  });

  /** The scope's chargers in parts against one statement and the direct computation, uptime and utilisation. */
  async function compareParts(scope: { tenantId: string; siteId?: string }, chargers: number): Promise<void> {
    const [span] = await db.query<{ lo: Date; hi: Date }>(
      `SELECT min(k.connected_at) AS lo, max(coalesce(k.disconnected_at, k.connected_at)) AS hi
         FROM connections k JOIN chargers c USING (charge_point_id) WHERE c.tenant_id = $1`, [scope.tenantId]);
    const lo = span!.lo.getTime();
    const hi = span!.hi.getTime();

    // A window reaching past now ends at one instant for every charger, however many parts computed it.
    const registered = new Map(
      (await db.query<{ charge_point_id: string; registered_at: Date }>('SELECT charge_point_id, registered_at FROM chargers WHERE tenant_id = $1', [scope.tenantId])).map((r) => [r.charge_point_id, r.registered_at.getTime()]),
    );
    const future = await uptimeSeconds(db, scope, new Date(lo - HOUR), new Date(Date.now() + HOUR), { parts: 3, minPerPart: 1 });
    const ends = new Set(future.map((r) => Math.round((Math.max(lo - HOUR, registered.get(r.charge_point_id)!) + r.window_s * 1000) * 1000)));
    expect(future).toHaveLength(chargers);
    expect(ends.size, 'one now for all parts').toBe(1);

    for (const [a, b] of [[lo - HOUR, Math.min(hi + HOUR, Date.now() - MIN)], [lo + (hi - lo) / 3, lo + (2 * (hi - lo)) / 3]] as const) {
      const from = new Date(Math.round(a));
      const to = new Date(Math.round(b));
      const whole = await uptimeSeconds(db, scope, from, to);
      const direct = await uptimeSeconds(db, scope, from, to, { direct: true });
      expect(whole).toHaveLength(chargers);
      // More parts than chargers allow (chargers + 2) are as many as have minPerPart each.
      for (const [parts, minPerPart] of [[2, 1], [3, 1], [4, 2], [chargers + 2, 1]] as const) {
        const split = await uptimeSeconds(db, scope, from, to, { parts, minPerPart });
        expect(split, `${parts} parts against one statement`).toEqual(whole);
        expect(split.map((r) => r.charge_point_id), `${parts} parts against the direct computation`).toEqual(direct.map((r) => r.charge_point_id));
        split.forEach((r, i) => expect(Math.abs(r.down_s - direct[i]!.down_s), `${r.charge_point_id} down`).toBeLessThan(0.001));
      }
      for (const granularity of GRANULARITIES) {
        const whole = await utilisationSeconds(db, scope, from, to, granularity);
        const direct = await utilisationSeconds(db, scope, from, to, granularity, { direct: true });
        for (const parts of [2, 3]) {
          const split = await utilisationSeconds(db, scope, from, to, granularity, { parts, minPerPart: 1 });
          expect(split, `utilisation ${granularity} in ${parts} parts against one statement`).toEqual(whole);
          expect(split.map((r) => [r.charge_point_id, r.period_start.getTime()])).toEqual(direct.map((r) => [r.charge_point_id, r.period_start.getTime()]));
          split.forEach((r, i) => expect(Math.abs(r.charging_s - direct[i]!.charging_s), `${r.charge_point_id} charging`).toBeLessThan(0.001));
        }
      }
    }
  }
});
