import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startTestService, type TestService } from './support/service.js';
import { aSite, aTenant, uniqueId, type TenantFixture } from './support/builders.js';
import { historyFixture } from './support/history-fixture.js';
import { dbKind } from './support/database.js';
import { fleetUtilisation, type Granularity } from '../src/fleet/utilisation.js';
import { fleetUptimeDirect } from '../src/fleet/uptime.js';

const MIN = 60_000;
const DAY = 86_400_000;
const apiTime = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

/**
 * The answers written as JSON text rather than serialised from objects (src/api/answers): each is
 * valid JSON of the route's documented response schema, and equal to the objects the rest of the
 * API would serialise, computed directly from the intervals.
 */
describe(`answers written as JSON text (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;
  let responseSchema: (path: string) => object;
  const D = Date.parse('2025-03-28T00:00:00Z'); // a Friday, three days before a month's end
  const at = (days: number, minutes = 0) => new Date(D + days * DAY + minutes * MIN);

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url, 'Answers');
    site = await aSite(t.api);
    const other = await aSite(t.api);
    const fx = historyFixture(svc.service.db, t.tenantId, site);
    // Charging across midnight and across the month's end; offline for a while; never online; registered mid-period.
    const a = await fx.charger(uniqueId('ANS-A'), at(-5));
    const ka = await fx.connected(a, at(-5));
    await fx.status(a, 1, 'Charging', at(0, 1380));
    await fx.status(a, 1, 'Available', at(1, 95));
    await fx.status(a, 1, 'Charging', at(3, 1410));
    await fx.status(a, 1, 'Available', at(4, 30));
    await fx.disconnected(a, ka, at(5, 10));
    await fx.connected(a, at(5, 711));
    await fx.charger(uniqueId('ANS-NEVER'), at(-5));
    const late = await fx.charger(uniqueId('ANS-LATE'), at(2, 333));
    await fx.connected(late, at(2, 333));
    await fx.status(late, 2, 'Charging', at(2, 400));
    await historyFixture(svc.service.db, t.tenantId, other).charger(uniqueId('ANS-ELSEWHERE'), at(-5));

    const doc = await (await fetch(`${svc.url}/openapi.json`)).json();
    responseSchema = (path) => doc.paths[path].get.responses['200'].content['application/json'].schema;
  });
  afterAll(() => svc?.close());

  /** The answer to a GET, as sent: its text is parsed here, and it must match the route's documented schema. */
  async function answer(route: 'uptime' | 'utilisation', query: string) {
    const res = await fetch(`${svc.url}/api/v1/cpo/fleet/${route}?${query}`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = JSON.parse(await res.text());
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const valid = ajv.validate(responseSchema(`/api/v1/cpo/fleet/${route}`), body);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    return body;
  }
  // `from` with an offset and milliseconds, as a client may send it: answered in UTC, whole seconds.
  const withOffset = (d: Date) => encodeURIComponent(new Date(d.getTime() + 2 * 3_600_000 + 250).toISOString().replace('Z', '+02:00'));
  const sent = (d: Date) => new Date(d.getTime() + 250);

  it('uptime: valid against the schema, equal to the direct computation, a charger never online and one registered late included', async () => {
    const [from, to] = [at(-2, 17), at(6, 3)];
    const body = await answer('uptime', `from=${withOffset(from)}&to=${to.toISOString()}&site_id=${site}`);
    const direct = await fleetUptimeDirect(svc.service.db, { tenantId: t.tenantId, siteId: site }, sent(from), to);
    expect(body).toEqual({ period: { from: apiTime(sent(from)), to: apiTime(to) }, chargers: direct });
    expect(direct).toHaveLength(3);
    expect(direct.map((c) => c.uptime_percent)).toContain(0);
    expect(direct.some((c) => c.uptime_percent !== null && c.uptime_percent % 1 !== 0)).toBe(true);
  });

  const cases: [Granularity, Date, Date][] = [
    ['hour', at(0, 1337), at(1, 130)],
    ['day', at(-1, 17), at(7)],
    ['week', at(-3), at(9, 1)],
    ['month', at(-40), at(8)],
  ];
  it.each(cases)('utilisation by %s: valid against the schema, equal to the direct computation', async (granularity, from, to) => {
    const body = await answer('utilisation', `from=${withOffset(from)}&to=${to.toISOString()}&site_id=${site}&granularity=${granularity}`);
    const sentFrom = sent(from);
    const direct = await fleetUtilisation(svc.service.db, { tenantId: t.tenantId, siteId: site }, sentFrom, to, granularity, { direct: true });
    expect(body).toEqual({
      period: { from: apiTime(sentFrom), to: apiTime(to) },
      granularity,
      chargers: direct.map((c) => ({ ...c, buckets: c.buckets.map((b) => ({ ...b, period_start: apiTime(b.period_start) })) })),
    });
    expect(body.chargers).toHaveLength(3);
    expect(body.chargers.flatMap((c: { buckets: { charging_minutes: number }[] }) => c.buckets).some((b: { charging_minutes: number }) => b.charging_minutes > 0)).toBe(true);
  });
});
