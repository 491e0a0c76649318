import { describe, expect, it } from 'vitest';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { ocppTestbed } from './support/ocpp-testbed.js';
import { rawCharger, type ChargerClient } from './support/charger.js';
import { history } from './support/history.js';
import { dbKind } from './support/database.js';

const now = () => new Date().toISOString();
const aStatus16 = (connectorId: number, status = 'Available', timestamp = now()) => ({ connectorId, errorCode: 'NoError', status, timestamp });

/** The CALLERROR code a call was refused with, or 'accepted'. */
async function outcome(c: ChargerClient, method: string, params: unknown): Promise<string> {
  try {
    await c.call(method, params);
    return 'accepted';
  } catch (err) {
    return (err as { rpcErrorCode?: string }).rpcErrorCode ?? String(err);
  }
}

describe(`OCPP hostile input (${dbKind})`, () => {
  const bed = ocppTestbed();

  it('values that can never be stored get a schema-level CALLERROR at once and change nothing', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const h = history(bed.svc.service.db);
    const c16 = await bed.connect(id);
    await c16.call('StatusNotification', aStatus16(1));
    const before = { intervals: await h.intervals(id, 1), sessions: await h.sessions(id), messages: await h.messages(id) };

    expect(await outcome(c16, 'Authorize', { idTag: 'TAG\u0000' })).toBe('FormationViolation');
    expect(await outcome(c16, 'StartTransaction', { connectorId: 1, idTag: 'T\ud800', meterStart: 0, timestamp: now() })).toBe('FormationViolation');
    expect(await outcome(c16, 'DataTransfer', { vendorId: 'acme', data: 'x\udc00y' })).toBe('FormationViolation');
    expect(await outcome(c16, 'StatusNotification', aStatus16(3_000_000_000))).toBe('PropertyConstraintViolation');
    expect(await outcome(c16, 'StatusNotification', aStatus16(256))).toBe('PropertyConstraintViolation');
    expect(await outcome(c16, 'StatusNotification', aStatus16(1, 'Faulted', '0000-01-01T00:00:00Z'))).toBe('PropertyConstraintViolation');
    expect(await outcome(c16, 'StartTransaction', { connectorId: 300, idTag: 'TAG', meterStart: 0, timestamp: now() })).toBe('PropertyConstraintViolation');

    const id2 = await aCharger(bed.t.api, bed.site);
    const c2 = await bed.connect(id2, 'ocpp2.0.1');
    const tx = { eventType: 'Started', timestamp: now(), triggerReason: 'Authorized', transactionInfo: { transactionId: 'T1' }, evse: { id: 1, connectorId: 1 } };
    expect(await outcome(c2, 'TransactionEvent', { ...tx, seqNo: 2_147_483_648 })).toBe('PropertyConstraintViolation');
    expect(await outcome(c2, 'TransactionEvent', { ...tx, seqNo: 0, idToken: { idToken: 'A\u0000', type: 'ISO14443' } })).toBe('FormatViolation');
    expect(await outcome(c2, 'StatusNotification', { timestamp: now(), connectorStatus: 'Available', evseId: 4_000_000_000, connectorId: 1 })).toBe('PropertyConstraintViolation');

    // A well-formed message on the same connections still goes through, and nothing of the refused ones was stored.
    expect(await outcome(c16, 'Heartbeat', {})).toBe('accepted');
    expect(await outcome(c2, 'TransactionEvent', { ...tx, seqNo: 0 })).toBe('accepted');
    expect({ intervals: await h.intervals(id, 1), sessions: await h.sessions(id), messages: await h.messages(id) }).toEqual(before);
    expect((await h.sessions(id2)).map((s) => s.transaction_id)).toEqual(['T1']);
  });

  it('a charger that pipelines thousands of CALLs has them refused beyond a small bound; another charger is answered meanwhile', async () => {
    const flooderId = await aCharger(bed.t.api, bed.site);
    const other = await aTenant(bed.svc.url, 'Other CPO');
    const victimId = await aCharger(other.api, await aSite(other.api));
    const victim = await bed.connect(victimId);
    const flood = await rawCharger(`${bed.svc.wsUrl}/${flooderId}`);

    const N = 3_000;
    const frames = Array.from({ length: N }, (_, i) => JSON.stringify([2, `f${i}`, 'StatusNotification', aStatus16(1, i % 2 ? 'Available' : 'Preparing')]));
    flood.ws.send(`${frames[0]}`);
    for (let i = 1; i < N; i++) flood.ws.send(frames[i]!);
    // While the flood is being answered, the victim's CALL is answered too.
    expect(await outcome(victim, 'StatusNotification', aStatus16(1, 'Preparing'))).toBe('accepted');

    const answers = new Map<string, any[]>();
    while ([...answers.values()].reduce((n, a) => n + a.length, 0) < N) {
      const m = await flood.next();
      answers.set(m[1], [...(answers.get(m[1]) ?? []), m]);
    }
    expect(answers.size).toBe(N);
    const results = [...answers.values()].map(([m]) => (m[0] === 3 ? 'result' : m[2]));
    const refused = results.filter((r) => r === 'GenericError').length;
    expect(results.filter((r) => r !== 'result' && r !== 'GenericError')).toEqual([]);
    // At most the bound (10) can be waiting at any moment; the rest of a burst is refused.
    expect(refused).toBeGreaterThan(N / 2);
    const stored = await history(bed.svc.service.db).statusEvents(flooderId);
    expect(stored.length).toBe(N - refused);
    flood.ws.close();
  });

  it('implausible meter data is recorded as a violation and left out of the energy figures', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const h = history(bed.svc.service.db);
    const c = await bed.connect(id);
    const mv = (transactionId: number, wh: string, at = now()) => ({
      connectorId: 1, transactionId, meterValue: [{ timestamp: at, sampledValue: [{ value: wh, measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
    });
    const started = Date.now() - 30 * 60_000;
    await c.call('StatusNotification', aStatus16(1, 'Charging'));
    const { transactionId } = await c.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: 10_000, timestamp: new Date(started).toISOString() });
    await c.call('MeterValues', mv(transactionId, '12000', new Date(started + 10 * 60_000).toISOString()));
    await c.call('MeterValues', mv(transactionId, '1e300', new Date(started + 11 * 60_000).toISOString())); // beyond any register
    await c.call('MeterValues', mv(transactionId, '-5', new Date(started + 12 * 60_000).toISOString())); // negative
    await c.call('MeterValues', mv(transactionId, '11000', new Date(started + 13 * 60_000).toISOString())); // runs backwards
    await c.call('MeterValues', mv(transactionId, '14000', new Date(started + 20 * 60_000).toISOString()));

    let d = await bed.t.api('GET', `/api/v1/cpo/chargers/${id}/diagnostics`);
    expect(d.body.connectors[0]).toMatchObject({ total_energy_kwh: 4 });
    expect((await h.samples(id)).map((s) => s.value)).toEqual([12000, 14000]);

    // A stop that would have the session deliver 5,000 kWh is not believed: the last plausible reading stands.
    await c.call('StopTransaction', { transactionId, meterStop: 5_010_000, timestamp: now(), reason: 'Local' });
    d = await bed.t.api('GET', `/api/v1/cpo/chargers/${id}/diagnostics`);
    expect(d.body.connectors[0]).toMatchObject({ total_sessions: 1, total_energy_kwh: 4 });
    const summary = await bed.t.api('GET', '/api/v1/cpo/fleet/summary');
    expect(summary.body.total_energy_today_kwh).toBeLessThan(1000);

    const violations = await h.messages(id, 'ImplausibleMeterValue');
    expect(violations.flatMap((v) => (v.payload.samples ?? [v.payload]).map((s: any) => s.reason))).toEqual([
      'beyond_register_range',
      'negative',
      'decreasing',
      'session_energy_beyond_bound',
    ]);

    // A session whose start reading is not plausible counts no energy at all.
    const { transactionId: tx2 } = await c.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: -1_000_000, timestamp: now() });
    await c.call('StopTransaction', { transactionId: tx2, meterStop: 20_000, timestamp: now(), reason: 'Local' });
    d = await bed.t.api('GET', `/api/v1/cpo/chargers/${id}/diagnostics`);
    expect(d.body.connectors[0]).toMatchObject({ total_sessions: 2, total_energy_kwh: 4 });
  });
});
