import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { aChargerDriver, type Protocol } from './support/driver.js';
import { dbKind } from './support/database.js';
import type { Queryable } from '../src/store/db.js';
import { module2Rows } from '../src/fleet/reliability/report.js';

/** 3 March 2025 (UTC) at hh:mm: the chargers replay their sessions with these timestamps, as after an offline spell. */
const at = (hhmm: string, day = '2025-03-03') => `${day}T${hhmm}:00Z`;
const FROM = '2025-03-03T00:00:00Z';
const TO = '2025-03-04T00:00:00Z';
const Q = `from=${FROM}&to=${TO}`;

/**
 * EV-ChART Module 2 and the charge session success rate, from sessions real chargers report over
 * real WebSockets. Every expected figure is worked out by hand in the comments (docs/compliance.md
 * "Sessions" has the definitions).
 */
describe(`reliability: sessions, Module 2 and the success rate (${dbKind})`, () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.close());

  it.each<[Protocol, string, string]>([
    ['ocpp1.6', 'GroundFailure', 'EmergencyStop'],
    ['ocpp2.0.1', 'GF-42', 'GroundFault'],
  ])('%s: one row per session, column by column; success rate per charger, site and fleet', async (protocol, fault, faultStop) => {
    const t = await aTenant(svc.url, `Sessions ${protocol}`);
    const s1 = await aSite(t.api, { name: 'Highway' });
    const s2 = await aSite(t.api, { name: 'Depot' });
    const a = await aCharger(t.api, s1);
    const b = await aCharger(t.api, s2);
    const v2 = protocol !== 'ocpp1.6';

    const da = await aChargerDriver(svc.wsUrl, a, protocol);
    await da.boot('Acme', 'DC150', '1.0');
    await da.status(1, 'Available', { at: at('09:00') });
    await da.status(2, 'Available', { at: at('09:00') });
    // S1, port 1: 12 kWh, power 30 kW then 31.5 kW (sent in kW), stopped by the driver → successful.
    const s1tx = await da.startSession(1, 1000, { at: at('10:00') });
    await da.meter(1, s1tx, 6000, { at: at('10:10'), powerW: 30_000 });
    await da.meter(1, s1tx, 11_000, { at: at('10:20'), powerW: 31_500, powerUnit: 'kW' });
    await da.stopSession(1, s1tx, 13_000, 'Local', { at: at('10:30') });
    // S2, port 2: authorised, unplugged after two minutes, nothing delivered → no_energy.
    const s2tx = await da.startSession(2, 500, { at: at('11:00') });
    await da.stopSession(2, s2tx, 500, 'EVDisconnected', { at: at('11:02') });
    // S3, port 1: 0.9 kWh at 9.6 kW, then a ground fault stops it → ended_in_error with the fault's code.
    const s3tx = await da.startSession(1, 13_000, { at: at('12:00') });
    await da.meter(1, s3tx, 13_800, { at: at('12:05'), powerW: 9600 });
    await da.status(1, 'Faulted', { errorCode: fault, at: at('12:06') });
    await da.stopSession(1, s3tx, 13_900, faultStop, { at: at('12:06') });
    await da.status(1, 'Available', { at: at('12:10') });
    // S4, port 2: power lost a minute in, no fault reported → ended_in_error, the code is the stop reason.
    const s4tx = await da.startSession(2, 500, { at: at('13:00') });
    await da.stopSession(2, s4tx, 500, 'PowerLoss', { at: at('13:01') });
    // S5, port 2: still running → in_progress, left out of the rate.
    await da.startSession(2, 500, { at: at('14:00') });
    if (v2) {
      // S6 (2.x), port 1: plugged in, never authorised, unplugged → not_authorised, not an attempt.
      await da.client.call('TransactionEvent', {
        eventType: 'Started', seqNo: 0, timestamp: at('15:00'), triggerReason: 'CablePluggedIn', evse: { id: 1, connectorId: 1 },
        transactionInfo: { transactionId: 'PLUG-1', chargingState: 'EVConnected' },
        meterValue: [{ timestamp: at('15:00'), sampledValue: [{ value: 13_900, context: 'Transaction.Begin' }] }],
      });
      await da.client.call('TransactionEvent', {
        eventType: 'Ended', seqNo: 1, timestamp: at('15:01'), triggerReason: 'EVDeparted', transactionInfo: { transactionId: 'PLUG-1', stoppedReason: 'EVDisconnected' },
        meterValue: [{ timestamp: at('15:01'), sampledValue: [{ value: 13_900, context: 'Transaction.End' }] }],
      });
    }

    const dB = await aChargerDriver(svc.wsUrl, b, protocol);
    await dB.boot('Acme', 'AC22', '1.0');
    await dB.status(1, 'Available', { at: at('09:00', '2025-03-02') });
    // S0: started the day before → outside the period, in no figure and no row.
    const s0tx = await dB.startSession(1, 0, { at: at('23:00', '2025-03-02') });
    await dB.stopSession(1, s0tx, 0, 'PowerLoss', { at: at('00:30') });
    // S7: 40 kWh, peak 40 kW, stopped remotely → successful. S8: 10 kWh, no power readings → successful, peak unknown.
    const s7tx = await dB.startSession(1, 0, { at: at('10:15') });
    await dB.meter(1, s7tx, 20_000, { at: at('10:45'), powerW: 40_000 });
    await dB.stopSession(1, s7tx, 40_000, 'Remote', { at: at('11:15') });
    const s8tx = await dB.startSession(1, 40_000, { at: at('12:15') });
    await dB.stopSession(1, s8tx, 50_000, 'EVDisconnected', { at: at('13:00') });
    // S9: a meter start below zero is implausible, so the sessions API leaves its energy out (null) → energy_unknown, left out of the rate.
    const s9tx = await dB.startSession(1, -5, { at: at('16:00') });
    await dB.stopSession(1, s9tx, 1000, 'Local', { at: at('16:30') });

    // The JSON list: ordered by start; the same sessions as the sessions API, with the same energy.
    const list = await t.api('GET', `/api/v1/cpo/reliability/sessions?${Q}`);
    expect(list.status).toBe(200);
    const sessions = list.body.sessions;
    expect(list.body.total).toBe(v2 ? 9 : 8);
    expect(sessions.map((s: any) => [s.charge_point_id, s.connector_id, s.started_at, s.outcome])).toEqual([
      [a, 1, at('10:00'), 'successful'],
      [b, 1, at('10:15'), 'successful'],
      [a, 2, at('11:00'), 'no_energy'],
      [a, 1, at('12:00'), 'ended_in_error'],
      [b, 1, at('12:15'), 'successful'],
      [a, 2, at('13:00'), 'ended_in_error'],
      [a, 2, at('14:00'), 'in_progress'],
      ...(v2 ? [[a, 1, at('15:00'), 'not_authorised']] : []),
      [b, 1, at('16:00'), 'energy_unknown'],
    ]);
    for (const s of sessions) {
      const api = await t.api('GET', `/api/v1/cpo/sessions/${s.session_id}`);
      expect([s.session_id, s.energy_kwh, s.stopped_at, s.stop_reason]).toEqual([api.body.session_id, api.body.energy_kwh, api.body.stopped_at, api.body.stop_reason]);
    }
    const page = await t.api('GET', `/api/v1/cpo/reliability/sessions?${Q}&limit=2&offset=2`);
    expect(page.body).toMatchObject({ total: v2 ? 9 : 8, limit: 2, offset: 2 });
    expect(page.body.sessions.map((s: any) => s.session_id)).toEqual(sessions.slice(2, 4).map((s: any) => s.session_id));

    // Module 2, column by column.
    const res = await fetch(`${svc.url}/api/v1/cpo/reliability/sessions?format=csv&${Q}`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="ev-chart-module2-2025-03-03-2025-03-04.csv"');
    expect(res.headers.get('content-length')).toBeNull(); // streamed
    const lines = (await res.text()).split('\r\n');
    expect(lines[0]).toBe('station_id,port_id,charge_point_id,connector_id,session_id,session_start,session_end,energy_kwh,peak_kw,session_error,error_code,ended_by,outcome');
    expect(lines.at(-1)).toBe('');
    const id = sessions.map((s: any) => s.session_id);
    expect(lines.slice(1, -1).map((l) => l.split(','))).toEqual([
      [s1, `${a}-1`, a, '1', id[0], at('10:00'), at('10:30'), '12', '31.5', 'false', '', 'Local', 'successful'],
      [s2, `${b}-1`, b, '1', id[1], at('10:15'), at('11:15'), '40', '40', 'false', '', 'Remote', 'successful'],
      [s1, `${a}-2`, a, '2', id[2], at('11:00'), at('11:02'), '0', '', 'false', '', 'EVDisconnected', 'no_energy'],
      [s1, `${a}-1`, a, '1', id[3], at('12:00'), at('12:06'), '0.9', '9.6', 'true', fault, faultStop, 'ended_in_error'],
      [s2, `${b}-1`, b, '1', id[4], at('12:15'), at('13:00'), '10', '', 'false', '', 'EVDisconnected', 'successful'],
      [s1, `${a}-2`, a, '2', id[5], at('13:00'), at('13:01'), '0', '', 'true', 'PowerLoss', 'PowerLoss', 'ended_in_error'],
      [s1, `${a}-2`, a, '2', id[6], at('14:00'), '', '0', '', '', '', '', 'in_progress'],
      ...(v2 ? [[s1, `${a}-1`, a, '1', id[7], at('15:00'), at('15:01'), '0', '', 'false', '', 'EVDisconnected', 'not_authorised']] : []),
      [s2, `${b}-1`, b, '1', id.at(-1), at('16:00'), at('16:30'), '', '', 'false', '', 'Local', 'energy_unknown'],
    ]);

    // Success rate = successful ÷ (successful + no_energy + ended_in_error).
    // A: S1 of S1–S4 → 1/4 = 25 %. B: S7, S8 → 2/2 = 100 %. Sites: one charger each. Fleet: 3/6 = 50 %.
    const report = await t.api('GET', `/api/v1/cpo/reliability/report?regime=operational&${Q}`);
    expect(report.status).toBe(200);
    const ss = report.body.session_success;
    const figures = (attempts: number, successful: number, rate: number) => expect.objectContaining({ attempts, successful, success_rate_percent: rate });
    expect(ss.chargers.find((c: any) => c.charge_point_id === a)).toEqual({
      charge_point_id: a, site_id: s1, sessions: v2 ? 6 : 5, attempts: 4, successful: 1, no_energy: 1, ended_in_error: 2,
      energy_unknown: 0, not_authorised: v2 ? 1 : 0, in_progress: 1, success_rate_percent: 25,
    });
    expect(ss.chargers.find((c: any) => c.charge_point_id === b)).toEqual(figures(2, 2, 100));
    expect(ss.chargers.find((c: any) => c.charge_point_id === b)).toMatchObject({ sessions: 3, energy_unknown: 1 });
    expect(ss.sites.find((s: any) => s.site_id === s1)).toEqual(figures(4, 1, 25));
    expect(ss.sites.find((s: any) => s.site_id === s2)).toEqual(figures(2, 2, 100));
    expect(ss.fleet).toEqual(figures(6, 3, 50));
    expect(ss.fleet.sessions).toBe(v2 ? 9 : 8);
    // Every regime's report carries it, and it follows the filters.
    const nevi = await t.api('GET', `/api/v1/cpo/reliability/report?regime=nevi&${Q}&site_id=${s2}`);
    expect(nevi.body.session_success.fleet).toEqual(figures(2, 2, 100));

    // The export is produced page by page: with one session per page the first row exists after one query.
    let queries = 0;
    const counting: Queryable = { query: (sql, params) => ((queries += 1), svc.service.db.query(sql, params)) };
    const gen = module2Rows(counting, { tenantId: t.tenantId, siteId: s2 }, new Date(FROM), new Date(TO), 1);
    const first = await gen.next();
    expect(queries).toBe(1);
    expect(first.value).toHaveLength(1);
    const rest: string[][] = [];
    for await (const rows of gen) rest.push(...rows);
    expect([...first.value, ...rest].map((r: string[]) => r[4])).toEqual([id[1], id[4], id.at(-1)]);
    expect(queries).toBe(4);

    await da.close();
    await dB.close();

    // Tenant isolation: another tenant's charger or site is 404; unfiltered, it sees none of these sessions.
    const stranger = await aTenant(svc.url, 'Other CPO');
    const foreignCharger = await stranger.api('GET', `/api/v1/cpo/reliability/sessions?${Q}&charge_point_id=${a}`);
    expect(foreignCharger.status).toBe(404);
    expect(foreignCharger.body.error).toMatchObject({ code: 'not_found', parameter: 'charge_point_id' });
    const foreignCsv = await fetch(`${svc.url}/api/v1/cpo/reliability/sessions?format=csv&${Q}&charge_point_id=${a}`, { headers: { authorization: `Bearer ${stranger.key}` } });
    expect(foreignCsv.status).toBe(404);
    expect((await stranger.api('GET', `/api/v1/cpo/reliability/sessions?${Q}&site_id=${s1}`)).body.error).toMatchObject({ code: 'not_found', parameter: 'site_id' });
    expect((await stranger.api('GET', `/api/v1/cpo/reliability/sessions?${Q}`)).body).toMatchObject({ sessions: [], total: 0 });
    expect((await stranger.api('GET', `/api/v1/cpo/reliability/report?regime=operational&${Q}`)).body.session_success.fleet).toMatchObject({ sessions: 0, attempts: 0, success_rate_percent: null });
  });

  it('bad query parameters are 400 in the one error shape; the scope is read:reliability', async () => {
    const t = await aTenant(svc.url, 'Sessions bad input');
    const bad = async (query: string, parameter: string) => {
      const r = await t.api('GET', `/api/v1/cpo/reliability/sessions?${query}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ status: 400, parameter });
      expect(typeof r.body.error.code).toBe('string');
      expect(typeof r.body.error.message).toBe('string');
    };
    await bad(`${Q}&format=xlsx`, 'format');
    await bad(`to=${TO}`, 'from');
    await bad(`from=${FROM}`, 'to');
    await bad(`from=${TO}&to=${FROM}`, 'to');
    await bad(`from=2024-01-01T00:00:00Z&to=2025-03-01T00:00:00Z`, 'to'); // more than 400 days
    await bad(`from=yesterday&to=${TO}`, 'from');
    await bad(`${Q}&limit=0`, 'limit');
    await bad(`${Q}&offset=-1`, 'offset');
    const reader = await aTenant(svc.url, 'Sessions reader', ['read:sessions']);
    expect((await reader.api('GET', `/api/v1/cpo/reliability/sessions?${Q}`)).status).toBe(403);
  });
});
