import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, uniqueId, type TenantFixture } from './support/builders.js';
import { connectCharger, isoAgo, rawCharger, upgradeStatus, type ChargerClient } from './support/charger.js';
import { eventually, history } from './support/history.js';
import { dbKind } from './support/database.js';

describe(`OCPP 1.6J central system: messages (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;
  let h: ReturnType<typeof history>;
  const open: ChargerClient[] = [];

  const charger = async (fields: Parameters<typeof aCharger>[2] = {}) => {
    const id = await aCharger(t.api, site, fields);
    const c = await connectCharger(svc.wsUrl, id, { password: fields.password });
    open.push(c);
    return { id, c };
  };

  beforeAll(async () => {
    svc = await startTestService({ DYNAMO_HEARTBEAT_INTERVAL: '120', DYNAMO_OCPP_MAX_PAYLOAD: '4096', DYNAMO_OCPP_MAX_BAD_MESSAGES: '3' });
    t = await aTenant(svc.url);
    site = await aSite(t.api);
    h = history(svc.service.db);
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close({ force: true }).catch(() => {})));
    await svc?.close();
  });

  describe('admission', () => {
    it('refuses unknown identities (404), wrong or missing passwords (401) and no common subprotocol (400), storing nothing', async () => {
      const unknown = uniqueId('GHOST');
      expect(await upgradeStatus(`${svc.wsUrl}/${unknown}`, ['ocpp1.6'])).toBe(404);
      const id = await aCharger(t.api, site, { password: 'right-password-123' });
      const basic = (p: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${p}`).toString('base64')}` });
      expect(await upgradeStatus(`${svc.wsUrl}/${id}`, ['ocpp1.6'])).toBe(401);
      expect(await upgradeStatus(`${svc.wsUrl}/${id}`, ['ocpp1.6'], basic('wrong-password-123'))).toBe(401);
      expect(await upgradeStatus(`${svc.wsUrl}/${id}`, ['ocpp1.2'], basic('right-password-123'))).toBe(400);
      expect(await h.connections(id)).toHaveLength(0);
      expect(await upgradeStatus(`${svc.wsUrl}/${id}`, ['ocpp1.6'], basic('right-password-123'))).toBe(101);
      // Also the longer path form: the identity is the last segment.
      expect(await upgradeStatus(`${svc.url.replace('http', 'ws')}/ocpp/1.6/${id}`, ['ocpp1.6'], basic('right-password-123'))).toBe(101);
      expect(await upgradeStatus(`${svc.url.replace('http', 'ws')}/elsewhere/${id}`, ['ocpp1.6'], basic('right-password-123'))).toBe(404);
      const stored = await eventually(() => h.connections(id), (r) => r.length === 2 && r.every((c) => c.disconnected_at));
      expect(stored.map((c) => c.ocpp_version)).toEqual(['1.6', '1.6']);
    });

    it('answers each upgrade of a burst on its own: lookups batched together never mix up identities, and nothing is cached', async () => {
      const ids = await Promise.all(Array.from({ length: 40 }, () => aCharger(t.api, site)));
      const guarded = await aCharger(t.api, site, { password: 'burst-password-123' });
      const basic = (p: string) => ({ authorization: `Basic ${Buffer.from(`${guarded}:${p}`).toString('base64')}` });
      const unknown = [uniqueId('GHOST'), uniqueId('GHOST')];
      // All at once, the same identity twice among them, so several land in one lookup.
      const burst = [
        ...ids.map((id) => upgradeStatus(`${svc.wsUrl}/${id}`, ['ocpp1.6'])),
        ...unknown.map((id) => upgradeStatus(`${svc.wsUrl}/${id}`, ['ocpp1.6'])),
        upgradeStatus(`${svc.wsUrl}/${unknown[0]}`, ['ocpp1.6']),
        upgradeStatus(`${svc.wsUrl}/${guarded}`, ['ocpp1.6'], basic('wrong-password-123')),
        upgradeStatus(`${svc.wsUrl}/${guarded}`, ['ocpp1.6'], basic('burst-password-123')),
      ];
      expect(await Promise.all(burst)).toEqual([...ids.map(() => 101), 404, 404, 404, 401, 101]);
      // A charger deleted just now is refused at its next connection: admission reads, never remembers.
      expect((await t.api('DELETE', `/api/v1/cpo/chargers/${ids[0]}`)).status).toBe(204);
      expect(await upgradeStatus(`${svc.wsUrl}/${ids[0]}`, ['ocpp1.6'])).toBe(404);
      expect(await upgradeStatus(`${svc.wsUrl}/${ids[1]}`, ['ocpp1.6'])).toBe(101);
    });

    it('drops a connection when its password is changed', async () => {
      const { id, c } = await charger({ password: 'first-password-1' });
      const closed = new Promise((r) => c.once('close', r));
      expect((await t.api('PATCH', `/api/v1/cpo/chargers/${id}`, { body: { password: 'second-password-2' } })).status).toBe(200);
      await closed;
      const rows = await eventually(() => h.connections(id), (r) => r[0]?.disconnect_reason != null);
      expect(rows[0]!.disconnect_reason).toBe('credentials_changed');
    });
  });

  it('BootNotification: Accepted with the configured interval; stores what the charger says about itself', async () => {
    const { id, c } = await charger();
    const res = await c.call('BootNotification', {
      chargePointVendor: 'ABB', chargePointModel: 'Terra AC', chargePointSerialNumber: 'SN-1', firmwareVersion: '3.4.1',
      iccid: '8944', imsi: '234', meterType: 'EM', meterSerialNumber: 'M-9', chargeBoxSerialNumber: 'BOX-7',
    });
    expect(res.status).toBe('Accepted');
    expect(res.interval).toBe(120);
    expect(Math.abs(Date.parse(res.currentTime) - Date.now())).toBeLessThan(5_000);
    const s = await h.state(id);
    expect(s).toMatchObject({ vendor: 'ABB', model: 'Terra AC', serial_number: 'SN-1', firmware_version: '3.4.1', meter_serial: 'M-9', box_serial_number: 'BOX-7', ocpp_version: '1.6' });
    const api = await t.api('GET', `/api/v1/cpo/chargers/${id}`);
    expect(api.body).toMatchObject({ vendor: 'ABB', model: 'Terra AC', firmware_version: '3.4.1' });
  });

  const answersTimed = async () => {
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    return Number(/^dynamo_ocpp_answer_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
  };

  it('Heartbeat: answered at once; last_heartbeat and last_seen recorded within seconds', async () => {
    const { id, c } = await charger();
    const timedBefore = await answersTimed();
    const before = Date.now();
    const res = await c.call('Heartbeat', {});
    // The server's answer time is in /metrics for operators to watch.
    expect(await answersTimed()).toBe(timedBefore + 1);
    expect(Date.parse(res.currentTime)).toBeGreaterThanOrEqual(before - 1000);
    const s = await eventually(() => h.state(id), (r) => r?.last_heartbeat != null, 6_000);
    expect(s!.last_heartbeat.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(s!.last_seen.getTime()).toBeGreaterThanOrEqual(s!.last_heartbeat.getTime());
  });

  it('StatusNotification: current status, status intervals and error events that open and resolve', async () => {
    const { id, c } = await charger();
    const t0 = Date.now() - 60_000;
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();
    await c.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: at(0) });
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(0) });
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', info: 'Ground fault on 1', vendorErrorCode: 'E12', timestamp: at(10) });
    // Repeated while it persists: still one event.
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: at(15) });
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(30) });

    const connectors = await h.connectors(id);
    expect(connectors.map((x) => [x.connector_id, x.status])).toEqual([[0, 'Available'], [1, 'Available']]);
    const intervals = await h.intervals(id, 1);
    expect(intervals.map((i) => [i.status, i.started_at.toISOString(), i.ended_at?.toISOString() ?? null])).toEqual([
      ['Available', at(0), at(10)],
      ['Faulted', at(10), at(15)],
      ['Faulted', at(15), at(30)],
      ['Available', at(30), null],
    ]);
    const errors = await h.errors(id);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ connector_id: 1, error_code: 'GroundFailure', info: 'Ground fault on 1', vendor_error_code: 'E12', status: 'Faulted' });
    expect(errors[0]!.event_id).toMatch(/^evt_/);
    expect(errors[0]!.occurred_at.toISOString()).toBe(at(10));
    expect(errors[0]!.resolved_at.toISOString()).toBe(at(30));
    expect(await h.statusEvents(id)).toHaveLength(5);
  });

  it('Authorize, DataTransfer, DiagnosticsStatusNotification, FirmwareStatusNotification: answered and recorded', async () => {
    const { id, c } = await charger();
    expect((await c.call('Authorize', { idTag: 'TAG-1' })).idTagInfo.status).toBe('Accepted');
    expect((await c.call('DataTransfer', { vendorId: 'com.acme', messageId: 'x', data: 'hello' })).status).toBe('UnknownVendorId');
    expect(await c.call('DiagnosticsStatusNotification', { status: 'Uploaded' })).toEqual({});
    expect(await c.call('FirmwareStatusNotification', { status: 'Installing' })).toEqual({});
    const kinds = (await h.messages(id)).map((m) => m.kind);
    expect(kinds).toEqual(['Authorize', 'DataTransfer', 'DiagnosticsStatus', 'FirmwareStatus']);
    expect((await h.messages(id, 'Authorize'))[0]!.payload).toEqual({ idTag: 'TAG-1' });
    expect(await h.state(id)).toMatchObject({ firmware_status: 'Installing', diagnostics_status: 'Uploaded' });
  });

  const droppedSamples = async () => {
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    return Number(/^dynamo_ocpp_meter_values_dropped_total (\d+)/m.exec(text)?.[1] ?? 0);
  };

  it('a session: StartTransaction (idempotent on retry), MeterValues in Wh and kWh, StopTransaction with transactionData', async () => {
    const { id, c } = await charger();
    const droppedBefore = await droppedSamples();
    const start = { connectorId: 1, idTag: 'TAG-9', meterStart: 1000, timestamp: isoAgo(600_000) };
    const first = await c.call('StartTransaction', start);
    expect(Number.isInteger(first.transactionId)).toBe(true);
    expect(first.idTagInfo.status).toBe('Accepted');
    const retry = await c.call('StartTransaction', start);
    expect(retry.transactionId).toBe(first.transactionId);

    await c.call('MeterValues', {
      connectorId: 1,
      transactionId: first.transactionId,
      meterValue: [
        { timestamp: isoAgo(300_000), sampledValue: [{ value: '4000' }, { value: '7.2', measurand: 'Power.Active.Import', unit: 'kW' }, { value: '50', measurand: 'Temperature', unit: 'Celsius' }] },
        { timestamp: isoAgo(200_000), sampledValue: [{ value: '5.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh' }] },
      ],
    });
    const stop = await c.call('StopTransaction', {
      transactionId: first.transactionId,
      meterStop: 6000,
      timestamp: isoAgo(100_000),
      idTag: 'TAG-9',
      reason: 'EVDisconnected',
      transactionData: [{ timestamp: isoAgo(150_000), sampledValue: [{ value: '5800', unit: 'Wh' }, { value: '41', measurand: 'Temperature', unit: 'Celsius' }] }],
    });
    expect(stop.idTagInfo.status).toBe('Accepted');
    // The Temperature of the MeterValues and the one in the StopTransaction's transactionData: dropped and counted.
    expect((await droppedSamples()) - droppedBefore).toBe(2);

    const sessions = await h.sessions(id);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ transaction_id: String(first.transactionId), connector_id: 1, id_tag: 'TAG-9', meter_start_wh: 1000, meter_stop_wh: 6000, stop_reason: 'EVDisconnected' });
    expect(sessions[0]!.stopped_at.getTime()).toBeGreaterThan(sessions[0]!.started_at.getTime());
    const samples = await h.samples(id);
    expect(samples.map((s) => [s.measurand, s.value, s.unit])).toEqual([
      ['Energy.Active.Import.Register', 4000, 'Wh'],
      ['Power.Active.Import', 7200, 'W'],
      ['Energy.Active.Import.Register', 5500, 'Wh'],
      ['Energy.Active.Import.Register', 5800, 'Wh'],
    ]);
    expect(samples.every((s) => s.session_id === sessions[0]!.session_id && s.connector_id === 1)).toBe(true);
  });

  it('StopTransaction and MeterValues for an unknown transaction: answered normally and recorded', async () => {
    const { id, c } = await charger();
    expect(await c.call('StopTransaction', { transactionId: 987654, meterStop: 10, timestamp: isoAgo(1000) })).toEqual({});
    expect(await c.call('MeterValues', { connectorId: 1, transactionId: 987655, meterValue: [{ timestamp: isoAgo(1000), sampledValue: [{ value: '10' }] }] })).toEqual({});
    expect((await h.messages(id)).map((m) => m.kind)).toEqual(['StopForUnknownTransaction', 'MeterValuesForUnknownTransaction']);
    expect(await h.sessions(id)).toHaveLength(0);
  });

  it('answers unknown actions NotImplemented and schema violations with the 1.6 error codes, storing nothing', async () => {
    const { id } = await charger();
    const raw = await rawCharger(`${svc.wsUrl}/${id}`);
    const ask = async (frame: unknown[]) => {
      raw.send(frame);
      return raw.next();
    };
    expect(await ask([2, 'a1', 'SelfDestruct', {}])).toEqual([4, 'a1', 'NotImplemented', expect.any(String), {}]);
    expect((await ask([2, 'a2', 'StatusNotification', { connectorId: 1, status: 'Available' }]))[2]).toBe('OccurrenceConstraintViolation');
    expect((await ask([2, 'a3', 'StatusNotification', { connectorId: 'one', errorCode: 'NoError', status: 'Available' }]))[2]).toBe('TypeConstraintViolation');
    expect((await ask([2, 'a4', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' }]))[2]).toBe('FormationViolation');
    expect((await ask([2, 'a5', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', colour: 'red' }]))[2]).toBe('PropertyConstraintViolation');
    expect((await ask([2, 'a6', 'Authorize', { idTag: 'X'.repeat(21) }]))[2]).toBe('FormationViolation');
    // The connection is still fine afterwards.
    expect((await ask([2, 'a7', 'Heartbeat', {}]))[0]).toBe(3);
    expect(await h.statusEvents(id)).toHaveLength(0);
    expect(await h.messages(id)).toHaveLength(0);
    raw.ws.close();
  });

  it('answers malformed frames without storing anything, and closes a connection that keeps misbehaving', async () => {
    const { id } = await charger();
    const raw = await rawCharger(`${svc.wsUrl}/${id}`);
    raw.send('this is not json');
    expect((await raw.next())[2]).toBe('FormationViolation');
    raw.send('[2, "big", "DataTransfer", {"vendorId": "x", "data": "' + 'y'.repeat(5000) + '"}]');
    const big = await raw.next();
    expect(big.slice(0, 3)).toEqual([4, 'big', 'FormationViolation']);
    raw.send([2, 'ok', 'Heartbeat', {}]);
    expect((await raw.next())[0]).toBe(3);
    // Three strikes allowed (DYNAMO_OCPP_MAX_BAD_MESSAGES=3); the fourth bad frame in a row closes it.
    for (let i = 0; i < 4; i++) raw.send('{nope');
    const { code } = await raw.closed;
    expect(code).toBe(1002);
    expect(await h.messages(id)).toHaveLength(0);
  });

  it('lenient mode: records the violation and processes a message whose meaning is clear', async () => {
    const strict = await charger();
    const lenient = await charger({ lenient: true });
    const deviant = { connectorId: '1', errorCode: 'VendorOverheat', status: 'Faulted', timestamp: isoAgo(1000) };
    await expect(strict.c.call('StatusNotification', deviant)).rejects.toMatchObject({ rpcErrorCode: expect.stringMatching(/Violation/) });
    expect(await h.statusEvents(strict.id)).toHaveLength(0);

    expect(await lenient.c.call('StatusNotification', deviant)).toEqual({});
    const errors = await h.errors(lenient.id);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ connector_id: 1, error_code: 'OtherError', vendor_error_code: 'VendorOverheat' });
    const violations = await h.messages(lenient.id, 'SchemaViolation');
    expect(violations).toHaveLength(1);
    expect(violations[0]!.payload.action).toBe('StatusNotification');
    // Still refused when the meaning is not clear.
    await expect(lenient.c.call('StatusNotification', { connectorId: 1 })).rejects.toMatchObject({ rpcErrorCode: 'OccurrenceConstraintViolation' });
  });
});
