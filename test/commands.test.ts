import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRPCError } from 'ocpp-rpc';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { aSimCharger, type SimCharger } from './support/sim-charger.js';
import { eventually } from './support/history.js';
import { dbKind } from './support/database.js';
import type { SimProtocol } from '../src/sim/virtual-charger.js';

/** Remote commands over real WebSockets to simulated chargers of each version (docs/commands.md). */
describe(`commands API (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let other: TenantFixture;
  let site: string;
  const sims: SimCharger[] = [];

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url);
    other = await aTenant(svc.url, 'Other CPO');
    site = await aSite(t.api);
  });
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    await svc?.close();
  });

  const sim = async (protocol: SimProtocol, o: Parameters<typeof aSimCharger>[3] = {}) => {
    const id = await aCharger(t.api, site);
    const s = await aSimCharger(svc.wsUrl, id, protocol, o);
    sims.push(s);
    return { id, s };
  };
  const send = (id: string, command: string, parameters: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
    t.api('POST', `/api/v1/cpo/commands/${id}`, { body: { command, parameters, ...extra } });

  describe.each(['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'] as SimProtocol[])('%s', (protocol) => {
    const v16 = protocol === 'ocpp1.6';
    const version = protocol.replace('ocpp', '');

    it('every command is sent as its OCPP CALL and Accepted by the simulator', async () => {
      const { id, s } = await sim(protocol);
      const cases: [string, Record<string, unknown>, string][] = [
        ['set_unavailable', { connector_id: 2 }, 'ChangeAvailability'],
        ['set_available', {}, 'ChangeAvailability'],
        ['soft_reset', {}, 'Reset'],
        ['unlock_connector', { connector_id: 1 }, 'UnlockConnector'],
        ['set_power_limit', { limit_kw: 11, duration_seconds: 3600 }, 'SetChargingProfile'],
        ['set_power_limit', { limit_a: 16, connector_id: 1 }, 'SetChargingProfile'],
        ['clear_power_limit', {}, 'ClearChargingProfile'],
        ['get_configuration', v16 ? {} : { keys: ['OCPPCommCtrlr.HeartbeatInterval'] }, v16 ? 'GetConfiguration' : 'GetVariables'],
        ['change_configuration', v16 ? { key: 'MeterValueSampleInterval', value: '30' } : { key: 'SampledDataCtrlr.TxUpdatedInterval', value: '30' }, v16 ? 'ChangeConfiguration' : 'SetVariables'],
        ['trigger_message', { message: 'Heartbeat' }, 'TriggerMessage'],
        ['update_firmware', { location: 'https://fw.example.com/v2.bin' }, 'UpdateFirmware'],
        ['get_diagnostics', { location: 'ftp://logs.example.com/up/' }, v16 ? 'GetDiagnostics' : 'GetLog'],
        ['data_transfer', { vendor_id: 'Dynamo', message_id: 'Ping', data: 'hello' }, 'DataTransfer'],
        ['hard_reset', {}, 'Reset'],
      ];
      for (const [command, parameters, action] of cases) {
        const r = await send(id, command, parameters);
        expect(r.status, `${command}: ${JSON.stringify(r.body)}`).toBe(200);
        expect(r.body).toMatchObject({ charge_point_id: id, command, status: 'Accepted', ocpp_action: action, ocpp_version: version, error: null });
        expect(r.body.id).toMatch(/^cmd_/);
        expect(r.body.round_trip_ms).toBeGreaterThanOrEqual(0);
        expect(s.received.at(-1)!.action).toBe(action);
        // A reset reboots the charger: wait for it to come back before the next command.
        if (command.endsWith('_reset')) await eventually(() => t.api('GET', `/api/v1/cpo/chargers/${id}/connectivity`), (c) => c.body.events.filter((e: any) => e.type === 'connected').length >= (command === 'soft_reset' ? 2 : 3), 15_000);
      }
      // The CALLs as the charger received them, in this version's terms.
      const by = (action: string) => s.received.filter((r) => r.action === action).map((r) => r.payload);
      if (v16) {
        expect(by('ChangeAvailability')).toEqual([{ connectorId: 2, type: 'Inoperative' }, { connectorId: 0, type: 'Operative' }]);
        expect(by('Reset')).toEqual([{ type: 'Soft' }, { type: 'Hard' }]);
        expect(by('SetChargingProfile')[0]).toMatchObject({ connectorId: 0, csChargingProfiles: { chargingProfilePurpose: 'ChargePointMaxProfile', chargingSchedule: { chargingRateUnit: 'W', duration: 3600, chargingSchedulePeriod: [{ startPeriod: 0, limit: 11000 }] } } });
        expect(by('SetChargingProfile')[1]).toMatchObject({ connectorId: 1, csChargingProfiles: { chargingProfilePurpose: 'TxDefaultProfile', chargingSchedule: { chargingRateUnit: 'A' } } });
        expect(by('ChangeConfiguration')).toEqual([{ key: 'MeterValueSampleInterval', value: '30' }]);
      } else {
        expect(by('ChangeAvailability')).toEqual([{ operationalStatus: 'Inoperative', evse: { id: 2 } }, { operationalStatus: 'Operative' }]);
        expect(by('Reset')).toEqual([{ type: 'OnIdle' }, { type: 'Immediate' }]);
        expect(by('SetChargingProfile')[0]).toMatchObject({ evseId: 0, chargingProfile: { chargingProfilePurpose: 'ChargingStationMaxProfile', chargingSchedule: [{ chargingRateUnit: 'W', duration: 3600 }] } });
        expect(by('UnlockConnector')).toEqual([{ evseId: 1, connectorId: 1 }]);
        expect(by('SetVariables')).toEqual([{ setVariableData: [{ component: { name: 'SampledDataCtrlr' }, variable: { name: 'TxUpdatedInterval' }, attributeValue: '30' }] }]);
        expect(typeof by('UpdateFirmware')[0].requestId).toBe('number');
      }
      // The record is durable and listed with who sent it.
      const list = await t.api('GET', `/api/v1/cpo/commands?charge_point_id=${id}&limit=100`);
      expect(list.body.total).toBe(cases.length);
      expect(new Set(list.body.commands.map((c: any) => c.requested_by)).size).toBe(1);
      expect(list.body.commands[0].requested_by).toMatch(/^key_/);
    }, 90_000);

    it('firmware and diagnostics progress is recorded on the charger and on the command', async () => {
      const { id } = await sim(protocol);
      const fw = await send(id, 'update_firmware', { location: 'https://fw.example.com/v3.bin' });
      expect(fw.body.status).toBe('Accepted');
      const done = await eventually(() => t.api('GET', `/api/v1/cpo/commands/${fw.body.id}`), (r) => r.body.progress?.length === 4, 15_000);
      expect(done.body.progress.map((p: any) => p.status)).toEqual(['Downloading', 'Downloaded', 'Installing', 'Installed']);
      const diag = await send(id, 'get_diagnostics', { location: 'ftp://logs.example.com/up/' });
      await eventually(() => t.api('GET', `/api/v1/cpo/commands/${diag.body.id}`), (r) => r.body.progress?.at(-1)?.status === 'Uploaded', 15_000);
      const charger = await t.api('GET', `/api/v1/cpo/chargers/${id}`);
      expect(charger.body.firmware_status).toMatchObject({ status: 'Installed' });
      expect(charger.body.diagnostics_status).toMatchObject({ status: 'Uploaded' });
      expect(charger.body.firmware_status.timestamp).toMatch(/Z$/);
    }, 60_000);

    it('Rejected, CALLERROR, NotImplemented, timeout and offline each get their status', async () => {
      const { id, s } = await sim(protocol);
      s.answer('Reset', () => ({ status: 'Rejected' }));
      const rejected = await send(id, 'soft_reset');
      expect(rejected.body).toMatchObject({ status: 'Rejected', response: { status: 'Rejected' }, error: null });

      s.answer('UnlockConnector', () => {
        throw createRPCError('InternalError', 'motor stuck', { motor: 3 });
      });
      const error = await send(id, 'unlock_connector', { connector_id: 1 });
      expect(error.body).toMatchObject({ status: 'Error', response: null, error: { code: 'InternalError', description: 'motor stuck', details: { motor: 3 } } });

      s.answer('DataTransfer', () => {
        throw createRPCError('NotImplemented', 'no vendor extensions');
      });
      expect((await send(id, 'data_transfer', { vendor_id: 'X' })).body).toMatchObject({ status: 'NotSupported', error: { code: 'NotImplemented' } });

      s.answer('TriggerMessage', () => new Promise(() => {}));
      const started = Date.now();
      const timeout = await send(id, 'trigger_message', { message: 'Heartbeat' }, { timeout_seconds: 1 });
      expect(timeout.body).toMatchObject({ status: 'Timeout', response: null });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);

      // A command the version lacks is NotSupported without sending anything
      // (1.6 has no TransactionEvent to trigger; 2.x reads named variables only).
      const before = s.received.length;
      const lacking = v16 ? await send(id, 'trigger_message', { message: 'TransactionEvent' }) : await send(id, 'get_configuration', {});
      expect(lacking.body).toMatchObject({ status: 'NotSupported', error: { code: 'NotSupportedByVersion' } });
      expect(s.received.length).toBe(before);

      const offlineId = await aCharger(t.api, site);
      const t0 = Date.now();
      const offline = await send(offlineId, 'soft_reset', {}, { timeout_seconds: 30 });
      expect(offline.body).toMatchObject({ status: 'Offline', ocpp_action: null, response: null });
      expect(Date.now() - t0).toBeLessThan(5_000);
    }, 60_000);

    it('keeps one CALL in flight per charger: concurrent commands queue in order, each within its own timeout', async () => {
      const { id, s } = await sim(protocol);
      let inFlight = 0;
      let maxInFlight = 0;
      const order: string[] = [];
      s.answer('DataTransfer', async (p: any) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        order.push(p.messageId);
        await new Promise((r) => setTimeout(r, 700));
        inFlight--;
        return { status: 'Accepted' };
      });
      // Each request is sent once the previous one is recorded (accepted by the service), so the
      // order they were accepted in is known; the charger must see them in that order, one at a time.
      const recorded = async () => (await t.api('GET', `/api/v1/cpo/commands?charge_point_id=${id}`)).body.total;
      const requests: Promise<any>[] = [];
      for (const m of ['a', 'b', 'c', 'd']) {
        requests.push(send(id, 'data_transfer', { vendor_id: 'Dynamo', message_id: m }, { timeout_seconds: 20 }));
        await eventually(recorded, (n) => n === requests.length);
      }
      const results = await Promise.all(requests);
      expect(results.map((r) => r.body.status)).toEqual(['Accepted', 'Accepted', 'Accepted', 'Accepted']);
      expect(maxInFlight).toBe(1);
      expect(order).toEqual(['a', 'b', 'c', 'd']);
      // A command whose deadline passes while it waits its turn is never sent.
      s.answer('DataTransfer', async (p: any) => {
        order.push(p.messageId);
        await new Promise((r) => setTimeout(r, 2500));
        return { status: 'Accepted' };
      });
      const blocker = send(id, 'data_transfer', { vendor_id: 'Dynamo', message_id: 'blocker' }, { timeout_seconds: 10 });
      await eventually(recorded, (n) => n === 5);
      const l = await send(id, 'data_transfer', { vendor_id: 'Dynamo', message_id: 'late' }, { timeout_seconds: 1 });
      expect(l.body).toMatchObject({ status: 'Timeout', error: { code: 'NotSent' } });
      expect((await blocker).body.status).toBe('Accepted');
      expect(order).not.toContain('late');
    }, 60_000);

    it('stop_session resolves the charger\'s own transaction id', async () => {
      const { id, s } = await sim(protocol);
      const start = await send(id, 'start_session', { connector_id: 1, id_tag: 'DRIVER-1' });
      expect(start.body.status).toBe('Accepted');
      const active = await eventually(() => t.api('GET', `/api/v1/cpo/sessions?charge_point_id=${id}&status=active`), (r) => r.body.total === 1);
      const session = active.body.sessions[0];
      expect(session).toMatchObject({ connector_id: 1, id_tag: 'DRIVER-1', status: 'active' });
      // The session is stored before its StartTransaction is answered: the charger learns the id a
      // moment after the API shows it.
      await eventually(async () => s.charger.transactionId, (tid) => tid === session.transaction_id);
      const stop = await send(id, 'stop_session', { session_id: session.session_id });
      expect(stop.body).toMatchObject({ status: 'Accepted', ocpp_action: v16 ? 'RemoteStopTransaction' : 'RequestStopTransaction' });
      const sent = s.received.filter((r) => r.action === stop.body.ocpp_action).at(-1)!.payload;
      expect(sent).toEqual({ transactionId: v16 ? Number(session.transaction_id) : session.transaction_id });
      await eventually(() => t.api('GET', `/api/v1/cpo/sessions/${session.session_id}`), (r) => r.body.status === 'completed');
      // An ended session cannot be stopped again; another charger's session is bad input.
      expect((await send(id, 'stop_session', { session_id: session.session_id })).status).toBe(409);
      const { id: other2 } = await sim(protocol);
      expect((await send(other2, 'stop_session', { session_id: session.session_id })).status).toBe(400);
      expect((await send(id, 'stop_session', { session_id: 'ses_999999999' })).status).toBe(404);
    }, 60_000);
  });

  it('refuses unknown commands and bad parameters with 400 and sends nothing', async () => {
    const { id, s } = await sim('ocpp1.6');
    const before = s.received.length;
    const bad = [
      { command: 'self_destruct', parameters: {} },
      { command: 'unlock_connector', parameters: {} },
      { command: 'unlock_connector', parameters: { connector_id: 'one' } },
      { command: 'soft_reset', parameters: { force: true } },
      { command: 'set_power_limit', parameters: { limit_kw: 11, limit_a: 16 } },
      { command: 'set_power_limit', parameters: {} },
      { command: 'update_firmware', parameters: { location: 'not a url' } },
      { command: 'stop_session', parameters: { session_id: 'tx-1' } },
    ];
    for (const body of bad) {
      const r = await t.api('POST', `/api/v1/cpo/commands/${id}`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toMatchObject({ status: 400, code: 'invalid_parameter' });
    }
    const timeout = await t.api('POST', `/api/v1/cpo/commands/${id}`, { body: { command: 'soft_reset', timeout_seconds: 61 } });
    expect(timeout.status).toBe(400);
    expect(s.received.length).toBe(before);
    expect((await t.api('GET', `/api/v1/cpo/commands?charge_point_id=${id}`)).body.total).toBe(0);
  });

  it('isolates tenants and checks scopes', async () => {
    const { id } = await sim('ocpp1.6');
    const mine = await send(id, 'soft_reset');
    expect(mine.status).toBe(200);
    expect((await other.api('POST', `/api/v1/cpo/commands/${id}`, { body: { command: 'soft_reset' } })).status).toBe(404);
    expect((await other.api('GET', `/api/v1/cpo/commands/${mine.body.id}`)).status).toBe(404);
    expect((await other.api('GET', `/api/v1/cpo/commands?charge_point_id=${id}`)).body.total).toBe(0);
    expect((await other.api('POST', '/api/v1/cpo/commands/bulk', { body: { command: 'soft_reset', charge_point_ids: [id] } })).status).toBe(404);
    const readOnly = await aTenant(svc.url, 'RO', ['read:commands']);
    expect((await readOnly.api('POST', `/api/v1/cpo/commands/${id}`, { body: { command: 'soft_reset' } })).status).toBe(403);
    const writeOnly = await aTenant(svc.url, 'WO', ['write:commands']);
    expect((await writeOnly.api('GET', '/api/v1/cpo/commands')).status).toBe(403);
  });

  it('bulk: 200 chargers, some offline, bounded concurrency, progress and per-charger results', async () => {
    const bulkSite = await aSite(t.api, { name: 'Bulk depot' });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await aCharger(t.api, bulkSite));
    const protocols: SimProtocol[] = ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'];
    const online = ids.slice(0, 120);
    const started = await Promise.all(online.map((id, i) => aSimCharger(svc.wsUrl, id, protocols[i % 3]!)));
    sims.push(...started);
    const r = await t.api('POST', '/api/v1/cpo/commands/bulk', { body: { command: 'set_power_limit', parameters: { limit_kw: 7.4 }, site_id: bulkSite } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ total: 200 });
    expect(r.body.id).toMatch(/^cmb_/);
    const done = await eventually(() => t.api('GET', `/api/v1/cpo/commands/bulk/${r.body.id}?limit=1000`), (b) => b.body.completed_at !== null, 30_000);
    expect(done.body).toMatchObject({ total: 200, done: 200, counts: { Accepted: 120, Offline: 80 } });
    expect(done.body.results).toHaveLength(200);
    const byCharger = new Map(done.body.results.map((c: any) => [c.charge_point_id, c.status]));
    for (const id of online) expect(byCharger.get(id)).toBe('Accepted');
    for (const id of ids.slice(120)) expect(byCharger.get(id)).toBe('Offline');
    expect(started.every((s) => s.received.filter((x) => x.action === 'SetChargingProfile').length === 1)).toBe(true);
    // Named chargers; an unknown one refuses the whole request.
    const named = await t.api('POST', '/api/v1/cpo/commands/bulk', { body: { command: 'trigger_message', parameters: { message: 'Heartbeat' }, charge_point_ids: online.slice(0, 3) } });
    expect(named.status).toBe(202);
    expect((await t.api('POST', '/api/v1/cpo/commands/bulk', { body: { command: 'soft_reset', charge_point_ids: ['nope'] } })).status).toBe(404);
    expect((await t.api('POST', '/api/v1/cpo/commands/bulk', { body: { command: 'soft_reset' } })).status).toBe(400);
  }, 120_000);

  it('maintenance with take_offline makes the charger unavailable for the window and available when completed', async () => {
    const { id, s } = await sim('ocpp2.0.1');
    const m = await t.api('POST', `/api/v1/cpo/chargers/${id}/maintenance`, {
      body: { type: 'scheduled', description: 'Replace cable', scheduled_at: new Date(Date.now() - 1000).toISOString(), take_offline: true },
    });
    expect(m.status).toBe(201);
    expect(m.body.take_offline).toBe(true);
    expect(m.body.offline_command).toMatchObject({ command: 'set_unavailable', requested_by: `maintenance:${m.body.event_id}` });
    const statusOf = async () => (await t.api('GET', '/api/v1/cpo/fleet/chargers?limit=1000')).body.chargers.find((c: any) => c.charge_point_id === id)?.status;
    await eventually(statusOf, (s) => s === 'Unavailable');
    const done = await t.api('PATCH', `/api/v1/cpo/chargers/${id}/maintenance/${m.body.event_id}`, { body: { completed_at: new Date().toISOString() } });
    expect(done.status).toBe(200);
    expect(done.body.online_command).toMatchObject({ command: 'set_available' });
    await eventually(statusOf, (s) => s === 'Available');
    const list = await eventually(
      () => t.api('GET', `/api/v1/cpo/chargers/${id}/maintenance`),
      (r) => r.body.events[0]?.offline_command?.status === 'Accepted' && r.body.events[0]?.online_command?.status === 'Accepted',
    );
    expect(list.body.events[0].offline_command.ocpp_action).toBe('ChangeAvailability');
    expect(s.received.filter((r) => r.action === 'ChangeAvailability').map((r) => r.payload.operationalStatus)).toEqual(['Inoperative', 'Operative']);
    // A window that starts later sends nothing yet.
    const later = await t.api('POST', `/api/v1/cpo/chargers/${id}/maintenance`, {
      body: { type: 'scheduled', description: 'Later', scheduled_at: new Date(Date.now() + 3_600_000).toISOString(), take_offline: true },
    });
    expect(later.body.offline_command).toBeNull();
  }, 60_000);
});
