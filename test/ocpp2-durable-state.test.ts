import { describe, expect, it } from 'vitest';
import { aCharger } from './support/builders.js';
import { ocppTestbed } from './support/ocpp-testbed.js';
import { history } from './support/history.js';
import { dbKind } from './support/database.js';

const PROTOCOL = 'ocpp2.0.1';

const energy = (wh: number, context = 'Sample.Periodic') => [
  { timestamp: new Date().toISOString(), sampledValue: [{ value: wh / 1000, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh' } }] },
];
const aTransactionEvent = (eventType: string, seqNo: number, transactionId: string, extra: Record<string, unknown> = {}) => ({
  eventType, seqNo, timestamp: new Date().toISOString(), triggerReason: 'MeterValuePeriodic',
  ...extra,
  transactionInfo: { transactionId, ...((extra.transactionInfo as object) ?? {}) },
});
const aStatus = (connectorStatus: string, evseId: number) => ({ timestamp: new Date().toISOString(), connectorStatus, evseId, connectorId: 1 });

describe(`OCPP 2.x transaction state lives in the database (${dbKind})`, () => {
  const bed = ocppTestbed();

  it('a charger that reconnects mid-transaction keeps its EVSE, its energy and Charging; the Ended still shows', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const h = history(bed.svc.service.db);
    let c = await bed.connect(id, PROTOCOL);
    await c.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'Kempower', model: 'S-Series' } });
    await c.call('StatusNotification', aStatus('Available', 2));
    await c.call('TransactionEvent', aTransactionEvent('Started', 0, 'TX-RC', {
      evse: { id: 2, connectorId: 1 }, idToken: { idToken: 'TAG-1', type: 'ISO14443' },
      transactionInfo: { chargingState: 'EVConnected' }, meterValue: energy(1000, 'Transaction.Begin'),
    }));
    await c.call('TransactionEvent', aTransactionEvent('Updated', 1, 'TX-RC', { transactionInfo: { chargingState: 'Charging' }, meterValue: energy(2000) }));

    // The connection drops; the charger comes back on a new one and carries on (no EVSE repeated, OCPP 2.0.1 E02).
    await c.close({ code: 1000 });
    c = await bed.connect(id, PROTOCOL);
    await c.call('BootNotification', { reason: 'Unknown', chargingStation: { vendorName: 'Kempower', model: 'S-Series' } });
    await c.call('TransactionEvent', aTransactionEvent('Updated', 2, 'TX-RC', { meterValue: energy(3500) }));
    await c.call('StatusNotification', aStatus('Occupied', 2));

    const charging = await bed.t.api('GET', `/api/v1/cpo/fleet/chargers?status=charging`);
    const mine = charging.body.chargers.find((x: any) => x.charge_point_id === id);
    expect(mine).toMatchObject({ status: 'Charging', connectors: [{ connector_id: 2, status: 'Charging' }] });
    expect((await h.samples(id)).map((s) => [s.connector_id, s.value])).toEqual([[2, 1000], [2, 2000], [2, 3500]]);

    await c.call('TransactionEvent', aTransactionEvent('Ended', 3, 'TX-RC', { transactionInfo: { stoppedReason: 'EVDisconnected' }, meterValue: energy(5000, 'Transaction.End') }));
    const d = await bed.t.api('GET', `/api/v1/cpo/chargers/${id}/diagnostics`);
    expect(d.body.connectors).toEqual([{ connector_id: 2, status: 'Occupied', total_sessions: 1, total_energy_kwh: 4 }]);
    expect((await h.intervals(id, 2)).map((i) => i.status)).toEqual(['Available', 'Charging', 'Charging', 'Occupied']);
    expect(await h.intervals(id, 0)).toEqual([]);
  });

  it('a problem reported while the EVSE is Faulted records status Faulted in its error event, as 1.6 does', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const c = await bed.connect(id, PROTOCOL);
    await c.call('StatusNotification', aStatus('Faulted', 1));
    await c.call('NotifyEvent', {
      generatedAt: new Date().toISOString(), seqNo: 0,
      eventData: [{
        eventId: 1, timestamp: new Date().toISOString(), trigger: 'Alerting', actualValue: 'true', eventNotificationType: 'HardWiredNotification',
        techCode: 'GroundFailure', component: { name: 'Connector', evse: { id: 1, connectorId: 1 } }, variable: { name: 'Problem' },
      }],
    });
    const errors = await bed.t.api('GET', `/api/v1/cpo/fleet/errors?charge_point_id=${id}`);
    expect(errors.body.errors.map((e: any) => [e.error_code, e.status])).toEqual([
      ['GroundFailure', 'Faulted'],
      ['Faulted', 'Faulted'],
    ]);
  });
});
