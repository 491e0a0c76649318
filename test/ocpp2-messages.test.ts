import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { connectCharger, rawCharger, type ChargerClient } from './support/charger.js';
import { eventually, history } from './support/history.js';
import { dbKind } from './support/database.js';

const MIN = 60_000;

describe.each(['ocpp2.0.1', 'ocpp2.1'])(`OCPP 2.x central system: %s (${dbKind})`, (protocol) => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;
  let h: ReturnType<typeof history>;
  const clients: ChargerClient[] = [];
  const version = protocol.replace('ocpp', '');

  const charger = async () => {
    const id = await aCharger(t.api, site);
    const c = await connectCharger(svc.wsUrl, id, { protocols: [protocol] });
    clients.push(c);
    await c.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'Alpitronic', model: 'HYC300', firmwareVersion: '2.1.0', serialNumber: 'S-1' } });
    return { id, c };
  };
  const energy = (wh: number, context = 'Sample.Periodic', at = new Date()) => [
    { timestamp: at.toISOString(), sampledValue: [{ value: wh / 1000, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh' } }] },
  ];
  const txEvent = (eventType: string, seqNo: number, transactionId: string, at: Date, extra: Record<string, unknown> = {}) => ({
    eventType, seqNo, timestamp: at.toISOString(), triggerReason: eventType === 'Ended' ? 'EVCommunicationLost' : 'CablePluggedIn',
    transactionInfo: { transactionId, ...((extra.transactionInfo as object) ?? {}) },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'transactionInfo')),
  });

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url);
    site = await aSite(t.api);
    h = history(svc.service.db);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close({ force: true }).catch(() => {})));
    await svc?.close();
  });

  it('negotiates the newest common subprotocol and reports the version', async () => {
    const id = await aCharger(t.api, site);
    const c = await connectCharger(svc.wsUrl, id, { protocols: ['ocpp1.6', protocol] });
    clients.push(c);
    expect(c.protocol).toBe(protocol);
    await c.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'V', model: 'M' } });
    const d = await t.api('GET', `/api/v1/cpo/chargers/${id}/diagnostics`);
    expect(d.body.ocpp_version).toBe(version);
  });

  it('BootNotification, StatusNotification and a charging session show in the fleet view as for 1.6', async () => {
    const { id, c } = await charger();
    const boot = await c.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'Alpitronic', model: 'HYC300', firmwareVersion: '2.1.0' } });
    expect(boot).toMatchObject({ status: 'Accepted', interval: 300 });
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
    const tx = `TX-${id}`;
    const started = await c.call('TransactionEvent', txEvent('Started', 0, tx, new Date(), {
      transactionInfo: { chargingState: 'EVConnected' }, evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'TOKEN1', type: 'ISO14443' },
      meterValue: energy(1000, 'Transaction.Begin'),
    }));
    expect(started).toEqual({ idTokenInfo: { status: 'Accepted' } });
    await c.call('TransactionEvent', txEvent('Updated', 1, tx, new Date(), { transactionInfo: { chargingState: 'Charging' }, meterValue: energy(2500) }));
    // Occupied while charging is Charging.
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });

    const list = await t.api('GET', '/api/v1/cpo/fleet/chargers?status=charging');
    expect(list.body.chargers.map((x: any) => x.charge_point_id)).toContain(id);
    const mine = list.body.chargers.find((x: any) => x.charge_point_id === id);
    expect(mine).toMatchObject({ vendor: 'Alpitronic', model: 'HYC300', firmware_version: '2.1.0', status: 'Charging', ocpp_version: version, connectors: [{ connector_id: 1, status: 'Charging' }] });

    await c.call('TransactionEvent', txEvent('Ended', 2, tx, new Date(), { transactionInfo: { stoppedReason: 'EVDisconnected' }, meterValue: energy(4000, 'Transaction.End') }));
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    const [s] = await h.sessions(id);
    expect(s).toMatchObject({ transaction_id: tx, connector_id: 1, id_tag: 'TOKEN1', meter_start_wh: 1000, meter_stop_wh: 4000, stop_reason: 'EVDisconnected' });
    const d = await t.api('GET', `/api/v1/cpo/chargers/${id}/diagnostics`);
    expect(d.body.connectors).toEqual([{ connector_id: 1, status: 'Available', total_sessions: 1, total_energy_kwh: 3 }]);
    expect((await h.intervals(id, 1)).map((i) => i.status)).toEqual(['Available', 'Occupied', 'Charging', 'Charging', 'Occupied', 'Available']);
  });

  it('a transaction started, or ended, by TransactionEvent alone changes the charger status the fleet view shows', async () => {
    // No chargingState and no StatusNotification after it: the open session alone makes the charger
    // Charging (docs/metrics.md "Charger status"), and its end makes it Available again.
    const { id, c } = await charger();
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    const status = async () => (await t.api('GET', `/api/v1/cpo/fleet/chargers?search=${id}`)).body.chargers[0]?.status;
    expect(await status()).toBe('Available');
    const tx = `TX-alone-${id}`;
    await c.call('TransactionEvent', txEvent('Started', 0, tx, new Date(), { evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'TOKEN1', type: 'ISO14443' } }));
    expect(await status()).toBe('Charging');
    await c.call('TransactionEvent', txEvent('Ended', 1, tx, new Date(), { transactionInfo: { stoppedReason: 'Local' } }));
    expect(await status()).toBe('Available');
  });

  it('TransactionEvent: duplicates skipped, out-of-order events settle, Ended without Started, offline replay', async () => {
    const { id, c } = await charger();
    const t0 = new Date(Date.now() - 60 * MIN);
    const at = (m: number) => new Date(t0.getTime() + m * MIN);
    // Arrives in the order Ended, Updated, Started (seqNo 2, 1, 0), then Updated again (a retransmission).
    await c.call('TransactionEvent', txEvent('Ended', 2, 'OOO', at(30), { transactionInfo: { stoppedReason: 'Local' }, meterValue: energy(9000, 'Transaction.End', at(30)), offline: true }));
    await c.call('TransactionEvent', txEvent('Updated', 1, 'OOO', at(10), { transactionInfo: { chargingState: 'Charging' }, meterValue: energy(5000, 'Sample.Periodic', at(10)), offline: true }));
    await c.call('TransactionEvent', txEvent('Started', 0, 'OOO', at(0), { evse: { id: 2, connectorId: 1 }, meterValue: energy(1000, 'Transaction.Begin', at(0)), offline: true }));
    await c.call('TransactionEvent', txEvent('Updated', 1, 'OOO', at(10), { transactionInfo: { chargingState: 'Charging' }, meterValue: energy(5000, 'Sample.Periodic', at(10)) }));
    const [s] = await h.sessions(id);
    expect(s).toMatchObject({ transaction_id: 'OOO', meter_start_wh: 1000, meter_stop_wh: 9000, stop_reason: 'Local' });
    expect(s!.started_at.toISOString()).toBe(at(0).toISOString());
    expect(s!.stopped_at.toISOString()).toBe(at(30).toISOString());
    expect((await h.samples(id)).map((x) => x.value)).toEqual([1000, 5000, 9000]);

    await c.call('TransactionEvent', txEvent('Ended', 7, 'NOSTART', at(40), { evse: { id: 1 }, meterValue: energy(700, 'Transaction.End', at(40)) }));
    const orphan = (await h.sessions(id)).find((x) => x.transaction_id === 'NOSTART');
    expect(orphan).toMatchObject({ connector_id: 1, meter_stop_wh: 700 });
    expect(orphan!.stopped_at.toISOString()).toBe(at(40).toISOString());
  });

  it('Updated events without a Started teach the session what they add (an earlier time, the EVSE, the token) and nothing else', async () => {
    const { id, c } = await charger();
    const t0 = new Date(Date.now() - 60 * MIN);
    const at = (m: number) => new Date(t0.getTime() + m * MIN);
    const updated = (seqNo: number, m: number, extra: Record<string, unknown> = {}) =>
      c.call('TransactionEvent', txEvent('Updated', seqNo, 'NOSTART-2', at(m), { meterValue: energy(1000 * seqNo, 'Sample.Periodic', at(m)), ...extra }));
    await updated(2, 20);
    await updated(1, 10);
    await updated(3, 30, { evse: { id: 2, connectorId: 1 } });
    await updated(4, 35, { idToken: { idToken: 'LATE-TAG', type: 'ISO14443' } });
    await updated(5, 40, { evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'OTHER', type: 'ISO14443' } });
    await updated(5, 40); // a retransmission: skipped whole
    const [s] = (await h.sessions(id)).filter((x) => x.transaction_id === 'NOSTART-2');
    expect(s).toMatchObject({ connector_id: 2, id_tag: 'LATE-TAG', last_meter_wh: 5000, stopped_at: null });
    expect(s!.started_at.toISOString()).toBe(at(10).toISOString());
    expect((await h.samples(id)).map((x) => x.value)).toEqual([1000, 2000, 3000, 4000, 5000]);
  });

  it('NotifyEvent problems become error events (techCode, else Component.Variable) and resolve when cleared', async () => {
    const { id, c } = await charger();
    const ev = (eventId: number, variable: string, actualValue: string, extra: Record<string, unknown> = {}) => ({
      eventId, timestamp: new Date().toISOString(), trigger: 'Alerting', actualValue, eventNotificationType: 'HardWiredNotification',
      component: { name: 'Connector', evse: { id: 1, connectorId: 1 } }, variable: { name: variable }, ...extra,
    });
    await c.call('NotifyEvent', { generatedAt: new Date().toISOString(), seqNo: 0, eventData: [ev(1, 'Problem', 'true', { techCode: 'GroundFailure', techInfo: 'Ground fault detected on connector 1' })] });
    await c.call('NotifyEvent', { generatedAt: new Date().toISOString(), seqNo: 1, eventData: [ev(2, 'Tripped', 'true', { component: { name: 'OverCurrentProtection', evse: { id: 1 } } })] });
    // A Faulted status while a problem is open is the same fault: no second event.
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Faulted', evseId: 1, connectorId: 1 });
    let errors = await t.api('GET', `/api/v1/cpo/fleet/errors?charge_point_id=${id}`);
    expect(errors.body.errors.map((e: any) => [e.error_code, e.connector_id, e.resolved_at])).toEqual([
      ['OverCurrentProtection.Tripped', 1, null],
      ['GroundFailure', 1, null],
    ]);
    expect(errors.body.errors[1].info).toBe('Ground fault detected on connector 1');
    expect((await t.api('GET', `/api/v1/cpo/fleet/chargers?status=faulted`)).body.chargers.map((x: any) => x.charge_point_id)).toContain(id);

    await c.call('NotifyEvent', { generatedAt: new Date().toISOString(), seqNo: 2, eventData: [ev(3, 'Problem', 'false', { techCode: 'GroundFailure' }), ev(4, 'Tripped', 'false', { cleared: true, component: { name: 'OverCurrentProtection', evse: { id: 1 } } })] });
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    errors = await t.api('GET', `/api/v1/cpo/fleet/errors?charge_point_id=${id}&resolved=false`);
    expect(errors.body.total).toBe(0);

    // A Faulted status with no problem open is an error event of its own ("Faulted").
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Faulted', evseId: 1, connectorId: 1 });
    expect((await t.api('GET', `/api/v1/cpo/fleet/errors?charge_point_id=${id}&resolved=false`)).body.errors.map((e: any) => e.error_code)).toEqual(['Faulted']);
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    expect((await t.api('GET', `/api/v1/cpo/fleet/errors?charge_point_id=${id}&resolved=false`)).body.total).toBe(0);
  });

  it('NotifyReport connector types, MeterValues, security, log, firmware, Authorize and DataTransfer are answered and recorded', async () => {
    const { id, c } = await charger();
    await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    await c.call('NotifyReport', {
      requestId: 1, generatedAt: new Date().toISOString(), seqNo: 0,
      reportData: [{ component: { name: 'Connector', evse: { id: 1, connectorId: 1 } }, variable: { name: 'ConnectorType' }, variableAttribute: [{ value: 'cCCS2' }] }],
    });
    const list = await t.api('GET', '/api/v1/cpo/fleet/chargers?limit=1000');
    expect(list.body.chargers.find((x: any) => x.charge_point_id === id).connectors).toEqual([{ connector_id: 1, type: 'cCCS2', status: 'Available', error_code: null }]);
    expect(await c.call('MeterValues', { evseId: 1, meterValue: energy(123) })).toEqual({});
    expect(await c.call('SecurityEventNotification', { type: 'FirmwareUpdated', timestamp: new Date().toISOString() })).toEqual({});
    expect(await c.call('LogStatusNotification', { status: 'Uploaded', requestId: 3 })).toEqual({});
    expect(await c.call('FirmwareStatusNotification', { status: 'Installed', requestId: 4 })).toEqual({});
    expect(await c.call('Authorize', { idToken: { idToken: 'ABC', type: 'ISO14443' } })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect((await c.call('DataTransfer', { vendorId: 'com.example' })).status).toBe('UnknownVendorId');
    expect((await h.samples(id)).map((s) => [s.value, s.unit])).toEqual([[123, 'Wh']]);
    expect((await h.messages(id)).map((m) => m.kind)).toEqual(['SecurityEvent', 'DiagnosticsStatus', 'FirmwareStatus', 'Authorize', 'DataTransfer']);
    expect(await h.state(id)).toMatchObject({ firmware_status: 'Installed', diagnostics_status: 'Uploaded' });
  });

  it('answers unknown actions NotImplemented and schema violations with the 2.x error codes, storing nothing', async () => {
    const { id } = await charger();
    const raw = await rawCharger(`${svc.wsUrl}/${id}`, protocol);
    raw.send([2, 'x1', 'ResetYourself', {}]);
    expect((await raw.next())[2]).toBe('NotImplemented');
    raw.send([2, 'x2', 'StatusNotification', { timestamp: new Date().toISOString(), evseId: 1, connectorId: 1 }]);
    expect((await raw.next())[2]).toBe('OccurrenceConstraintViolation');
    raw.send([2, 'x3', 'StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Sleeping', evseId: 1, connectorId: 1 }]);
    expect((await raw.next())[2]).toBe('FormatViolation');
    raw.send('not json');
    expect((await raw.next())[2]).toBe('RpcFrameworkError');
    expect(await h.statusEvents(id)).toHaveLength(0);
    raw.ws.close();
  });
});

describe(`a mixed fleet: OCPP 1.6, 2.0.1 and 2.1 chargers look like one fleet (${dbKind})`, () => {
  it('counts, lists and meters them alike', async () => {
    const svc = await startTestService();
    const clients: ChargerClient[] = [];
    try {
      const t = await aTenant(svc.url);
      const site = await aSite(t.api);
      const ids: Record<string, string> = {};
      for (const protocol of ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1']) {
        const id = await aCharger(t.api, site);
        ids[protocol] = id;
        const c = await connectCharger(svc.wsUrl, id, { protocols: [protocol] });
        clients.push(c);
        const now = new Date().toISOString();
        if (protocol === 'ocpp1.6') {
          await c.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
          await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: now });
          const tx = await c.call('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: now });
          await c.call('MeterValues', { connectorId: 1, transactionId: tx.transactionId, meterValue: [{ timestamp: now, sampledValue: [{ value: '2000' }] }] });
        } else {
          await c.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'V', model: 'M' } });
          await c.call('StatusNotification', { timestamp: now, connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
          await c.call('TransactionEvent', {
            eventType: 'Started', seqNo: 0, timestamp: now, triggerReason: 'ChargingStateChanged', evse: { id: 1, connectorId: 1 },
            transactionInfo: { transactionId: `T-${id}`, chargingState: 'Charging' },
            meterValue: [{ timestamp: now, sampledValue: [{ value: 0, context: 'Transaction.Begin' }] }],
          });
          await c.call('TransactionEvent', {
            eventType: 'Updated', seqNo: 1, timestamp: now, triggerReason: 'MeterValuePeriodic', transactionInfo: { transactionId: `T-${id}` },
            meterValue: [{ timestamp: now, sampledValue: [{ value: 2000 }] }],
          });
        }
      }
      const summary = await t.api('GET', '/api/v1/cpo/fleet/summary');
      expect(summary.body).toMatchObject({ total_chargers: 3, online: 3, charging: 3, active_sessions: 3, total_energy_today_kwh: 6 });
      const list = await t.api('GET', '/api/v1/cpo/fleet/chargers');
      expect(list.body.chargers.map((c: any) => [c.ocpp_version, c.status, c.connectors.map((k: any) => [k.connector_id, k.status])]).sort()).toEqual([
        ['1.6', 'Charging', [[1, 'Charging']]],
        ['2.0.1', 'Charging', [[1, 'Charging']]],
        ['2.1', 'Charging', [[1, 'Charging']]],
      ]);
      for (const id of Object.values(ids)) {
        const d = await eventually(() => t.api('GET', `/api/v1/cpo/chargers/${id}/diagnostics`), (r) => r.status === 200);
        expect(d.body.connectors).toEqual([{ connector_id: 1, status: 'Charging', total_sessions: 1, total_energy_kwh: 2 }]);
      }
    } finally {
      await Promise.all(clients.map((c) => c.close({ force: true }).catch(() => {})));
      await svc.close();
    }
  });
});
