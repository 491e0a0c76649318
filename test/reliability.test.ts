import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aSite, aTenant, uniqueId, type TenantFixture } from './support/builders.js';
import { historyFixture } from './support/history-fixture.js';
import { dbKind } from './support/database.js';
import type { Queryable } from '../src/store/db.js';
import { module4Rows } from '../src/fleet/reliability/report.js';
import { portHistoryPages, portSpanPages } from '../src/fleet/reliability/port-history.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const utc = (s: string) => new Date(`${s}Z`);
const iso = (d: Date) => d.toISOString();
const apiTime = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
/** µ = (T − (T_outage − T_excluded)) / T × 100, as the calculators round it (two decimals). */
const mu = (t: number, outage: number, excluded: number) => (100 * (t - (outage - excluded))) / t;

/**
 * Regime figures over histories written with chosen timestamps; every expected figure is worked
 * out by hand below (docs/compliance.md has the formulas).
 */
describe(`reliability reports over known history (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;
  let fx: ReturnType<typeof historyFixture>;
  const D = Date.parse('2025-01-01T00:00:00Z');
  const at = (days: number, minutes = 0) => new Date(D + days * DAY + minutes * MIN);

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url);
    site = await aSite(t.api);
    fx = historyFixture(svc.service.db, t.tenantId, site);
  });
  afterAll(() => svc?.close());

  /** Charger A, two ports, ten days: offline, a port fault with its code, a port unavailable, a whole-charger fault, maintenance. */
  async function chargerA() {
    const cp = await fx.charger(uniqueId('A'), at(-10));
    const c1 = await fx.connected(cp, at(-10));
    await fx.status(cp, 1, 'Available', at(-10));
    await fx.status(cp, 2, 'Available', at(-10));
    await fx.disconnected(cp, c1, at(1, 600)); // offline 90 min: both ports
    await fx.connected(cp, at(1, 690));
    await fx.status(cp, 1, 'Faulted', at(2, 100), 'GroundFailure'); // port 1: 60 min
    await fx.status(cp, 1, 'Available', at(2, 160));
    await fx.status(cp, 2, 'Unavailable', at(3, 0)); // port 2: 120 min
    await fx.status(cp, 2, 'Available', at(3, 120));
    await fx.status(cp, 0, 'Faulted', at(4, 0), 'PowerMeterFailure'); // the whole charger: 30 min, both ports
    await fx.status(cp, 0, 'Available', at(4, 30));
    // Scheduled maintenance covers 30 of port 2's 120 unavailable minutes: the pre-filled exclusion.
    const m = await t.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, {
      body: { type: 'scheduled', description: 'Annual service', scheduled_at: iso(at(3, 60)), completed_at: iso(at(3, 90)) },
    });
    expect(m.status).toBe(201);
    // A reactive repair is not scheduled maintenance: no pre-fill for port 1's fault.
    await t.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, {
      body: { type: 'reactive', description: 'Ground fault repair', scheduled_at: iso(at(2, 100)), completed_at: iso(at(2, 160)) },
    });
    return cp;
  }

  it('per-port history and outage records: causes, error codes, whole durations, the maintenance pre-fill', async () => {
    const cp = await chargerA();
    const q = `from=${iso(at(0))}&to=${iso(at(10))}&charge_point_id=${cp}`;
    const ports = await t.api('GET', `/api/v1/cpo/reliability/ports?${q}`);
    expect(ports.status).toBe(200);
    const T = 10 * 1440; // 14,400 minutes
    // Port 1: 90 offline + 60 faulted + 30 charger faulted = 180 → (14400 − 180) / 14400 = 98.75 %.
    // Port 2: 90 + 120 unavailable + 30 = 240, of which 30 inside scheduled maintenance → 98.33 %.
    expect(ports.body.ports).toEqual([
      { charge_point_id: cp, site_id: site, connector_id: 1, port_id: `${cp}-1`, in_service_since: apiTime(at(-10)), window_minutes: T, downtime_minutes: 180, excluded_downtime_minutes: 0, uptime_percent: 98.75, outage_count: 3 },
      { charge_point_id: cp, site_id: site, connector_id: 2, port_id: `${cp}-2`, in_service_since: apiTime(at(-10)), window_minutes: T, downtime_minutes: 240, excluded_downtime_minutes: 30, uptime_percent: 98.33, outage_count: 3 },
    ]);

    const list = await t.api('GET', `/api/v1/cpo/reliability/outages?${q}`);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(6);
    const brief = list.body.outages.map((o: any) => [o.connector_id, o.cause, o.error_code, o.started_at, o.ended_at, o.duration_minutes, o.exclusion?.reason ?? null, o.exclusion?.source ?? null]);
    expect(brief).toEqual([
      [1, 'charger_offline', null, apiTime(at(1, 600)), apiTime(at(1, 690)), 90, null, null],
      [1, 'port_faulted', 'GroundFailure', apiTime(at(2, 100)), apiTime(at(2, 160)), 60, null, null],
      [1, 'charger_faulted', 'PowerMeterFailure', apiTime(at(4, 0)), apiTime(at(4, 30)), 30, null, null],
      [2, 'charger_offline', null, apiTime(at(1, 600)), apiTime(at(1, 690)), 90, null, null],
      [2, 'port_unavailable', null, apiTime(at(3, 0)), apiTime(at(3, 120)), 120, 'scheduled_maintenance', 'maintenance'],
      [2, 'charger_faulted', 'PowerMeterFailure', apiTime(at(4, 0)), apiTime(at(4, 30)), 30, null, null],
    ]);
    expect(list.body.outages[4].exclusion.excluded_minutes).toBe(30);
    // Paging keeps the total.
    const page = await t.api('GET', `/api/v1/cpo/reliability/outages?${q}&limit=2&offset=4`);
    expect(page.body).toMatchObject({ total: 6, limit: 2, offset: 4 });
    expect(page.body.outages.map((o: any) => o.outage_id)).toEqual(list.body.outages.slice(4).map((o: any) => o.outage_id));
  });

  it('exclusions: set, replace, overrule the pre-fill and clear through the API, every change audited; NEVI and operational figures follow', async () => {
    const cp = await chargerA();
    const q = `from=${iso(at(0))}&to=${iso(at(10))}&charge_point_id=${cp}`;
    const list = (await t.api('GET', `/api/v1/cpo/reliability/outages?${q}`)).body.outages;
    const offline1 = list[0].outage_id;
    const maint2 = list[4].outage_id;

    const set = await t.api('PUT', `/api/v1/cpo/reliability/outages/${offline1}/exclusion`, { body: { reason: 'vandalism', notes: 'cable cut' } });
    expect(set.status).toBe(200);
    const replaced = await t.api('PUT', `/api/v1/cpo/reliability/outages/${offline1}/exclusion`, { body: { reason: 'utility_interruption', notes: 'utility ref 4711' } });
    expect(replaced.body.exclusion).toMatchObject({ reason: 'utility_interruption', source: 'operator', notes: 'utility ref 4711', excluded_minutes: 90 });
    expect(replaced.body.exclusion.set_by).toMatch(/^key_/);
    expect(replaced.body.audit.map((a: any) => [a.action, a.reason, a.previous_reason, a.previous_notes])).toEqual([
      ['set', 'vandalism', null, null],
      ['set', 'utility_interruption', 'vandalism', 'cable cut'],
    ]);
    expect(new Set(replaced.body.audit.map((a: any) => a.actor_key_id))).toEqual(new Set([replaced.body.exclusion.set_by]));
    // Overrule the maintenance pre-fill on port 2: the 120 minutes count in full.
    const overruled = await t.api('PUT', `/api/v1/cpo/reliability/outages/${maint2}/exclusion`, { body: { reason: 'not_excluded', notes: 'ran over the window' } });
    expect(overruled.body.exclusion).toMatchObject({ reason: 'not_excluded', source: 'operator', excluded_minutes: 0 });

    const T = 14_400;
    const nevi = await t.api('GET', `/api/v1/cpo/reliability/report?regime=nevi&${q}`);
    expect(nevi.status).toBe(200);
    const [p1, p2] = nevi.body.ports;
    // Port 1: T_outage 180, T_excluded 90 (utility) → 99.375 %. Port 2: 240, 0 → 98.333 %.
    expect(p1).toMatchObject({ connector_id: 1, window_minutes: T, outage_minutes: 180, excluded_minutes: 90 });
    expect(p1.uptime_percent).toBeCloseTo(mu(T, 180, 90), 2);
    expect(p2).toMatchObject({ connector_id: 2, outage_minutes: 240, excluded_minutes: 0 });
    expect(p2.uptime_percent).toBeCloseTo(mu(T, 240, 0), 2);
    // Charger, site and fleet: Σ over ports → (28800 − (420 − 90)) / 28800 = 98.854 %.
    expect(nevi.body.chargers[0]).toMatchObject({ charge_point_id: cp, window_minutes: 2 * T, outage_minutes: 420, excluded_minutes: 90, ports: 2 });
    expect(nevi.body.chargers[0].uptime_percent).toBeCloseTo(mu(2 * T, 420, 90), 2);
    // The period's single month; the 97 % applies to the twelve months to the period's end: the
    // ports lived 20 of them (registered 10 days before) → T = 28,800, same outages.
    expect(p1.monthly).toHaveLength(1);
    expect(p1.previous_12_months).toMatchObject({ from: apiTime(utc('2024-01-11T00:00:00')), to: apiTime(at(10)), window_minutes: 2 * T, outage_minutes: 180, excluded_minutes: 90, pass: true });

    const op = await t.api('GET', `/api/v1/cpo/reliability/report?regime=operational&${q}`);
    expect(op.body.ports.map((p: any) => [p.outage_minutes, p.excluded_minutes, p.uptime_percent, p.pass])).toEqual([
      [180, 0, 98.75, null],
      [240, 0, 98.33, null],
    ]);

    // Clear both: the operator's exclusion goes, the pre-fill comes back; the trail keeps it all.
    const cleared = await t.api('DELETE', `/api/v1/cpo/reliability/outages/${maint2}/exclusion`);
    expect(cleared.status).toBe(200);
    expect(cleared.body.exclusion).toMatchObject({ reason: 'scheduled_maintenance', source: 'maintenance', excluded_minutes: 30 });
    expect(cleared.body.audit.map((a: any) => [a.action, a.reason, a.previous_reason])).toEqual([
      ['set', 'not_excluded', null],
      ['cleared', null, 'not_excluded'],
    ]);
    expect((await t.api('DELETE', `/api/v1/cpo/reliability/outages/${maint2}/exclusion`)).status).toBe(404);
  });

  it('CEC caps: planned maintenance 72 h per port-year consumed from 1 January, vandalism 10 days per incident; NEVI uncapped', async () => {
    const cp = await fx.charger(uniqueId('CEC'), utc('2024-12-01T00:00:00'));
    await fx.connected(cp, utc('2024-12-01T00:00:00'));
    await fx.status(cp, 1, 'Available', utc('2024-12-01T00:00:00'));
    const down = async (status: string, start: string, hours: number) => {
      await fx.status(cp, 1, status, utc(start), status === 'Faulted' ? 'OtherError' : 'NoError');
      await fx.status(cp, 1, 'Available', new Date(utc(start).getTime() + hours * HOUR));
    };
    await down('Unavailable', '2025-02-01T00:00:00', 50); // planned: 50 h of the year's 72
    await down('Unavailable', '2025-03-01T00:00:00', 40); // planned: 22 h left → 18 h count
    await down('Faulted', '2025-04-01T00:00:00', 12 * 24); // vandalism: 10 days excluded, 2 count
    const all = (await t.api('GET', `/api/v1/cpo/reliability/outages?from=2025-01-01T00:00:00Z&to=2025-05-01T00:00:00Z&charge_point_id=${cp}`)).body.outages;
    expect(all.map((o: any) => o.duration_minutes)).toEqual([3000, 2400, 17280]);
    for (const [o, reason] of [[all[0], 'scheduled_maintenance'], [all[1], 'scheduled_maintenance'], [all[2], 'vandalism']] as const) {
      expect((await t.api('PUT', `/api/v1/cpo/reliability/outages/${o.outage_id}/exclusion`, { body: { reason } })).status).toBe(200);
    }
    const q = `from=2025-03-01T00:00:00Z&to=2025-05-01T00:00:00Z&charge_point_id=${cp}`;
    const cec = await t.api('GET', `/api/v1/cpo/reliability/report?regime=cec&${q}`);
    expect(cec.status).toBe(200);
    // T = 61 days = 87,840 min. T_outage = 2,400 + 17,280 = 19,680.
    // T_excluded = (72 − 50) h = 1,320 + 10 d = 14,400 → 15,720. µ = (87840 − 3960) / 87840 = 95.49 % → fails 97 %.
    const T = 61 * 1440;
    expect(cec.body.ports[0]).toMatchObject({ window_minutes: T, outage_minutes: 19_680, excluded_minutes: 15_720, pass: false });
    expect(cec.body.ports[0].uptime_percent).toBeCloseTo(mu(T, 19_680, 15_720), 2);
    expect(cec.body.fleet).toMatchObject({ ports: 1, ports_passing: 0 });
    // NEVI has no caps: all 19,680 excluded → 100 %. The outage records are untouched by the caps.
    const nevi = await t.api('GET', `/api/v1/cpo/reliability/report?regime=nevi&${q}`);
    expect(nevi.body.ports[0]).toMatchObject({ outage_minutes: 19_680, excluded_minutes: 19_680, uptime_percent: 100 });
    const after = (await t.api('GET', `/api/v1/cpo/reliability/outages?${q}`)).body.outages;
    expect(after.map((o: any) => [o.duration_minutes, o.exclusion.excluded_minutes])).toEqual([[2400, 2400], [17280, 17280]]);
  });

  it('NEVI previous 12 months over a leap year, a port added mid-year, an outage across the period edge; CSV Module 3', async () => {
    const cp = await fx.charger(uniqueId('LEAP'), utc('2023-06-01T00:00:00'));
    await fx.connected(cp, utc('2023-06-01T00:00:00'));
    await fx.status(cp, 1, 'Available', utc('2023-06-01T00:00:00'));
    await fx.status(cp, 2, 'Available', utc('2024-03-01T00:00:00')); // port 2 added on 1 March 2024
    await fx.status(cp, 1, 'Faulted', utc('2024-02-29T00:00:00'), 'OtherError'); // the leap day
    await fx.status(cp, 1, 'Available', utc('2024-03-01T00:00:00'));
    await fx.status(cp, 2, 'Faulted', utc('2024-12-31T12:00:00'), 'HighTemperature'); // across the year's end
    await fx.status(cp, 2, 'Available', utc('2025-01-01T12:00:00'));

    const q = `from=2024-12-01T00:00:00Z&to=2025-01-01T00:00:00Z&charge_point_id=${cp}`;
    const r = await t.api('GET', `/api/v1/cpo/reliability/report?regime=nevi&${q}`);
    const [p1, p2] = r.body.ports;
    // Port 1: 2024 has 366 days = 527,040 min (not 525,600); outage 1,440 → 99.727 % > 97.
    expect(p1.previous_12_months).toMatchObject({ from: '2024-01-01T00:00:00Z', window_minutes: 527_040, outage_minutes: 1440, pass: true });
    expect(p1.previous_12_months.uptime_percent).toBeCloseTo(mu(527_040, 1440, 0), 2);
    // Port 2: in service from 1 March: 306 days = 440,640 min; 720 of its 1,440 outage minutes fall in 2024.
    expect(p2.previous_12_months).toMatchObject({ window_minutes: 440_640, outage_minutes: 720 });
    expect(p2.previous_12_months.uptime_percent).toBeCloseTo(mu(440_640, 720, 0), 2);
    // December alone: 31 days = 44,640 min, 720 down → 98.39 %.
    expect(p2.monthly).toEqual([expect.objectContaining({ month: '2024-12-01T00:00:00Z', window_minutes: 44_640, outage_minutes: 720 })]);
    expect(p2.monthly[0].uptime_percent).toBeCloseTo(mu(44_640, 720, 0), 2);

    // The outage across the edge is the same record seen from either side: whole, same id.
    const dec = (await t.api('GET', `/api/v1/cpo/reliability/outages?${q}`)).body.outages;
    const jan = (await t.api('GET', `/api/v1/cpo/reliability/outages?from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&charge_point_id=${cp}`)).body.outages;
    expect(dec.at(-1)).toMatchObject({ connector_id: 2, started_at: '2024-12-31T12:00:00Z', ended_at: '2025-01-01T12:00:00Z', duration_minutes: 1440, error_code: 'HighTemperature' });
    expect(jan).toEqual([dec.at(-1)]);

    // Module 3: one row per port and month, figures over the twelve months to the month's end.
    const csv = await fetch(`${svc.url}/api/v1/cpo/reliability/report?regime=nevi&format=csv&${q}`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="ev-chart-module3-2024-12-01-2025-01-01.csv"');
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('station_id,port_id,charge_point_id,connector_id,uptime_reporting_start,uptime_reporting_end,uptime_window_start,uptime_window_end,uptime,total_outage,total_outage_excl,window_minutes');
    expect(lines.slice(1, -1).map((l) => l.split(','))).toEqual([
      [site, `${cp}-1`, cp, '1', '2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', String(p1.previous_12_months.uptime_percent), '1440', '0', '527040'],
      [site, `${cp}-2`, cp, '2', '2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', String(p2.previous_12_months.uptime_percent), '720', '0', '440640'],
    ]);
    expect(lines.at(-1)).toBe('');
  });

  it('UK PCPR: rapid chargers only, offline is "ineligible for measurement", the network average weighted by measured time', async () => {
    const tenant = await aTenant(svc.url, 'UK CPO');
    const s = await aSite(tenant.api);
    const f = historyFixture(svc.service.db, tenant.tenantId, s);
    const J = Date.parse('2025-01-01T00:00:00Z');
    const jan = (day: number, minutes = 0) => new Date(J + (day - 1) * DAY + minutes * MIN);
    // D: 150 kW, two EVSEs, the whole month; EVSE 1 faulted 600 min; offline 100 min (not counted).
    const d = await f.charger(uniqueId('UKD'), jan(1));
    const k = await f.connected(d, jan(1));
    await f.status(d, 1, 'Available', jan(1));
    await f.status(d, 2, 'Available', jan(1));
    await f.status(d, 1, 'Faulted', jan(5), 'OtherError');
    await f.status(d, 1, 'Available', jan(5, 600));
    await f.disconnected(d, k, jan(10));
    await f.connected(d, jan(10, 100));
    // G: 50 kW (rapid: 50 kW "or above"), from 16 January, one EVSE unavailable 460 min.
    const g = await f.charger(uniqueId('UKG'), jan(16));
    await f.connected(g, jan(16));
    await f.status(g, 1, 'Available', jan(16));
    await f.status(g, 1, 'Unavailable', jan(20));
    await f.status(g, 1, 'Available', jan(20, 460));
    // E: 22 kW, not rapid; F: power unknown. Both left out, and said so.
    for (const id of [uniqueId('UKE'), uniqueId('UKF')]) {
      await f.charger(id, jan(1));
      await f.connected(id, jan(1));
      await f.status(id, 1, 'Faulted', jan(1), 'OtherError');
      if (id.startsWith('UKE')) await tenant.api('PUT', `/api/v1/cpo/reliability/chargers/${id}`, { body: { rated_power_kw: 22 } });
    }
    for (const [id, kw] of [[d, 150], [g, 50]] as const) {
      const r = await tenant.api('PUT', `/api/v1/cpo/reliability/chargers/${id}`, { body: { rated_power_kw: kw } });
      expect(r.body).toEqual({ charge_point_id: id, rated_power_kw: kw });
    }
    const r = await tenant.api('GET', `/api/v1/cpo/reliability/report?regime=uk_pcpr&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z`);
    expect(r.status).toBe(200);
    // D: 2 × 44,640 EVSE-minutes, 600 not reliable → r_D = 1 − 600/89,280 = 99.328 %, weight 44,640.
    // G: 16 days = 23,040 min, 460 not reliable → r_G = 98.003 %, weight 23,040.
    const rD = 1 - 600 / 89_280;
    const rG = 1 - 460 / 23_040;
    const weighted = (100 * (rD * 44_640 + rG * 23_040)) / (44_640 + 23_040); // 98.877 %
    expect(r.body.network.reliability_percent).toBeCloseTo(weighted, 2);
    expect(r.body.network.simple_mean_percent).toBeCloseTo((100 * (rD + rG)) / 2, 2);
    expect(r.body.network).toMatchObject({ pass: false, rapid_chargers: 2, chargers_not_rapid: 1, chargers_without_rated_power: 1 });
    const dPort1 = r.body.ports.find((p: any) => p.charge_point_id === d && p.connector_id === 1);
    expect(dPort1).toMatchObject({ window_minutes: 44_640, outage_minutes: 600, unmeasured_minutes: 100, pass: false });
  });

  it('Module 4 CSV: column by column; the export is produced page by page', async () => {
    const cp = await chargerA();
    const q = `from=${iso(at(0))}&to=${iso(at(10))}&charge_point_id=${cp}`;
    const first = (await t.api('GET', `/api/v1/cpo/reliability/outages?${q}`)).body.outages[1];
    await t.api('PUT', `/api/v1/cpo/reliability/outages/${first.outage_id}/exclusion`, { body: { reason: 'vehicle_fault', notes: '=HYPERLINK("x"), "quoted"' } });
    const res = await fetch(`${svc.url}/api/v1/cpo/reliability/outages?format=csv&${q}`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull(); // streamed, not buffered
    const text = await res.text();
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('station_id,port_id,charge_point_id,connector_id,outage_id,outage_start,outage_end,outage_duration,cause,error_code,excluded,exclusion_reason,exclusion_source,excluded_minutes,notes');
    expect(lines).toHaveLength(1 + 6 + 1);
    expect(lines[1]!.split(',')).toEqual([site, `${cp}-1`, cp, '1', expect.stringMatching(/^out_/), apiTime(at(1, 600)), apiTime(at(1, 690)), '90', 'charger_offline', '', 'false', '', '', '0', '']);
    // Notes are quoted (RFC 4180) and defused as a formula.
    expect(lines[2]).toBe(`${site},${cp}-1,${cp},1,${first.outage_id},${apiTime(at(2, 100))},${apiTime(at(2, 160))},60,port_faulted,GroundFailure,true,vehicle_fault,operator,60,"'=HYPERLINK(""x""), ""quoted"""`);
    expect(lines[5]!.split(',').slice(8, 14)).toEqual(['port_unavailable', '', 'true', 'scheduled_maintenance', 'maintenance', '30']);

    // Page by page: with one charger per page, the first rows exist after one query, before the
    // second charger is read; the rows are those of the whole export.
    const other = await chargerA();
    let queries = 0;
    const counting: Queryable = { query: (sql, params) => ((queries += 1), svc.service.db.query(sql, params)) };
    const gen = module4Rows(counting, { tenantId: t.tenantId, siteId: site }, at(0), at(10), 1);
    const firstPage = await gen.next();
    expect(queries).toBe(1);
    expect(firstPage.value.length).toBeGreaterThan(0);
    const rest: string[][] = [];
    for await (const rows of gen) rest.push(...rows);
    expect(queries).toBeGreaterThan(2);
    const allIds = [...firstPage.value, ...rest].map((row: string[]) => row[2]);
    expect(allIds).toContain(cp);
    expect(allIds).toContain(other);
  });

  it('tenant isolation, scopes and bad input', async () => {
    const cp = await chargerA();
    const q = `from=${iso(at(0))}&to=${iso(at(10))}&charge_point_id=${cp}`;
    const id = (await t.api('GET', `/api/v1/cpo/reliability/outages?${q}`)).body.outages[0].outage_id;
    const stranger = await aTenant(svc.url, 'Other CPO');
    expect((await stranger.api('GET', `/api/v1/cpo/reliability/outages/${id}`)).status).toBe(404);
    expect((await stranger.api('PUT', `/api/v1/cpo/reliability/outages/${id}/exclusion`, { body: { reason: 'vandalism' } })).status).toBe(404);
    expect((await stranger.api('DELETE', `/api/v1/cpo/reliability/outages/${id}/exclusion`)).status).toBe(404);
    expect((await stranger.api('PUT', `/api/v1/cpo/reliability/chargers/${cp}`, { body: { rated_power_kw: 50 } })).status).toBe(404);
    expect((await stranger.api('GET', `/api/v1/cpo/reliability/ports?${q}`)).body.ports).toEqual([]);
    expect((await stranger.api('GET', `/api/v1/cpo/reliability/outages?${q}`)).body.total).toBe(0);
    expect((await t.api('GET', `/api/v1/cpo/reliability/outages/${id}`)).status).toBe(200);
    // The stranger's attempt changed nothing.
    expect((await t.api('GET', `/api/v1/cpo/reliability/outages/${id}`)).body).toMatchObject({ exclusion: null, audit: [] });

    const reader = await aTenant(svc.url, 'Reader', ['read:charge_points']);
    expect((await reader.api('GET', `/api/v1/cpo/reliability/ports?${q}`)).status).toBe(403);
    const readOnly = await aTenant(svc.url, 'Read only', ['read:reliability']);
    expect((await readOnly.api('PUT', `/api/v1/cpo/reliability/outages/${id}/exclusion`, { body: { reason: 'vandalism' } })).status).toBe(403);

    const bad = async (path: string, parameter: string | null, opts: { body?: unknown; method?: string } = {}) => {
      const r = await t.api(opts.method ?? 'GET', path, opts.body ? { body: opts.body } : {});
      expect(r.status).toBe(400);
      expect(r.body.error.parameter).toBe(parameter);
    };
    await bad(`/api/v1/cpo/reliability/report?regime=afir&${q}`, 'regime');
    await bad(`/api/v1/cpo/reliability/report?regime=cec&format=csv&${q}`, 'format');
    await bad(`/api/v1/cpo/reliability/ports?from=${iso(at(10))}&to=${iso(at(0))}`, 'to');
    await bad(`/api/v1/cpo/reliability/ports?to=${iso(at(0))}`, 'from');
    await bad(`/api/v1/cpo/reliability/outages/${id}/exclusion`, 'reason', { method: 'PUT', body: { reason: 'bad_luck' } });
    expect((await t.api('GET', `/api/v1/cpo/reliability/outages/out_garbage`)).status).toBe(404);
    expect((await t.api('GET', `/api/v1/cpo/reliability/outages/${id}`)).body.audit).toEqual([]);
  });

  it('the calculators read the same outages as the outage records: clipped to a late port, excluded, inside maintenance, across the period edges', async () => {
    const cp = await fx.charger(uniqueId('L'), at(-10));
    let c = await fx.connected(cp, at(-10));
    await fx.status(cp, 1, 'Available', at(-10));
    await fx.disconnected(cp, c, at(-5)); // offline a day; port 2 is first seen in the middle of it
    c = await fx.connected(cp, at(-4));
    await fx.status(cp, 2, 'Available', at(-4, -600));
    await fx.status(cp, 0, 'Faulted', at(-2, 0), 'PowerMeterFailure'); // the charger faulted while port 1 faulted too
    await fx.status(cp, 1, 'Faulted', at(-2, 30), 'GroundFailure');
    await fx.status(cp, 0, 'Available', at(-2, 60));
    await fx.status(cp, 1, 'Available', at(-2, 120));
    await fx.status(cp, 0, 'Unavailable', at(-1, 0));
    await fx.status(cp, 0, 'Available', at(-1, 45));
    await fx.status(cp, 2, 'Unavailable', at(0, 0)); // across the edge of at(0, 30)
    await fx.status(cp, 2, 'Available', at(0, 60));
    await fx.disconnected(cp, c, at(1, 0));
    await fx.connected(cp, at(1, 20));
    for (const [from, to] of [[at(-2, 30), at(-1, 30)], [at(0, 50), at(0, 70)]] as const) {
      const m = await t.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, { body: { type: 'scheduled', description: 'Service', scheduled_at: iso(from), completed_at: iso(to) } });
      expect(m.status).toBe(201);
    }
    const list = (await t.api('GET', `/api/v1/cpo/reliability/outages?from=${iso(at(-10))}&to=${iso(at(2))}&charge_point_id=${cp}`)).body.outages;
    const clipped = list.find((o: any) => o.connector_id === 2 && o.cause === 'charger_offline' && o.started_at === apiTime(at(-4, -600)));
    expect(clipped).toBeDefined();
    expect((await t.api('PUT', `/api/v1/cpo/reliability/outages/${clipped.outage_id}/exclusion`, { body: { reason: 'utility_interruption' } })).status).toBe(200);

    const db = svc.service.db as Queryable;
    const scope = { tenantId: t.tenantId, chargePointId: cp };
    const all = async <T>(pages: AsyncGenerator<T[]>) => {
      const out: T[] = [];
      for await (const p of pages) out.push(...p);
      return out;
    };
    for (const [from, to] of [[at(-10), at(2)], [at(-4, -700), at(-2, 45)], [at(0, 30), at(1, 10)], [at(-5, 1), at(-5, 2)], [at(1, 30), at(2)]] as const) {
      const records = await all(portHistoryPages(db, scope, from, to));
      const spans = await all(portSpanPages(db, scope, from, to));
      // A port's end is now, read by each query.
      const life = ({ end: _now, ...port }: { end: number }) => port;
      expect(spans.map((p) => life(p.port))).toEqual(records.map((p) => life(p.port)));
      expect(spans.map((p) => p.outages)).toEqual(
        records.map((p) => p.outages.map((o) => ({ cause: o.cause, start: o.start, end: o.end, exclusion: o.exclusion && { reason: o.exclusion.reason }, maintenance: o.maintenance }))),
      );
    }
    // The history has what the comparison is meant to cover.
    const causes = new Set(list.map((o: any) => o.cause));
    expect(causes).toEqual(new Set(['charger_offline', 'charger_faulted', 'charger_unavailable', 'port_faulted', 'port_unavailable']));
    expect(list.filter((o: any) => o.exclusion?.source === 'maintenance').length).toBeGreaterThanOrEqual(2);
  });
});
