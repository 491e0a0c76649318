import { connectCharger, type ChargerClient } from './charger.js';

export type Protocol = 'ocpp1.6' | 'ocpp2.0.1' | 'ocpp2.1';

/**
 * One charger behaviour, spoken in any OCPP version: the same story told the
 * way a real charger of that generation tells it, so scenario tests can expect
 * the same fleet answers whatever the version.
 */
export interface ChargerDriver {
  readonly client: ChargerClient;
  boot(vendor: string, model: string, firmware: string): Promise<void>;
  /** A connector's status; with an error code the connector (or, for 0, the charger) is faulted. */
  status(connectorId: number, status: string, opts?: { errorCode?: string; info?: string; at?: string }): Promise<void>;
  startSession(connectorId: number, meterStartWh: number): Promise<string>;
  meter(connectorId: number, transactionId: string, wh: number): Promise<void>;
  stopSession(connectorId: number, transactionId: string, meterStopWh: number, reason?: string): Promise<void>;
  heartbeat(): Promise<void>;
  close(): Promise<void>;
}

export async function aChargerDriver(wsUrl: string, identity: string, protocol: Protocol): Promise<ChargerDriver> {
  const c = await connectCharger(wsUrl, identity, { protocols: [protocol] });
  return protocol === 'ocpp1.6' ? v16(c) : v2(c);
}

function v16(c: ChargerClient): ChargerDriver {
  return {
    client: c,
    async boot(vendor, model, firmware) {
      await c.call('BootNotification', { chargePointVendor: vendor, chargePointModel: model, firmwareVersion: firmware });
    },
    async status(connectorId, status, o = {}) {
      await c.call('StatusNotification', {
        connectorId, status, errorCode: o.errorCode ?? 'NoError', timestamp: o.at ?? new Date().toISOString(), ...(o.info ? { info: o.info } : {}),
      });
    },
    async startSession(connectorId, meterStart) {
      const r = await c.call('StartTransaction', { connectorId, idTag: 'T1', meterStart, timestamp: new Date().toISOString() });
      return String(r.transactionId);
    },
    async meter(connectorId, transactionId, wh) {
      await c.call('MeterValues', { connectorId, transactionId: Number(transactionId), meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: String(wh), unit: 'Wh' }] }] });
    },
    async stopSession(_connectorId, transactionId, meterStop, reason = 'Local') {
      await c.call('StopTransaction', { transactionId: Number(transactionId), meterStop, timestamp: new Date().toISOString(), reason });
    },
    async heartbeat() {
      await c.call('Heartbeat', {});
    },
    close: () => c.close().then(() => undefined),
  };
}

function v2(c: ChargerClient): ChargerDriver {
  let seq = 0;
  let n = 0;
  const problems = new Map<number, string>();
  const problem = (connectorId: number, on: boolean, at: string, techCode?: string, info?: string) =>
    c.call('NotifyEvent', {
      generatedAt: at, seqNo: seq++,
      eventData: [{
        eventId: seq, timestamp: at, trigger: 'Alerting', actualValue: on ? 'true' : 'false', eventNotificationType: 'HardWiredNotification',
        component: connectorId === 0 ? { name: 'ChargingStation' } : { name: 'Connector', evse: { id: connectorId, connectorId: 1 } },
        variable: { name: 'Problem' }, ...(techCode ? { techCode } : {}), ...(info ? { techInfo: info } : {}),
      }],
    });
  return {
    client: c,
    async boot(vendor, model, firmware) {
      await c.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: vendor, model, firmwareVersion: firmware } });
    },
    async status(connectorId, status, o = {}) {
      const at = o.at ?? new Date().toISOString();
      const faulted = o.errorCode !== undefined && o.errorCode !== 'NoError';
      // A 2.x station tells a fault as a Problem event, then (per EVSE) a Faulted status.
      if (faulted) {
        problems.set(connectorId, o.errorCode!);
        await problem(connectorId, true, at, o.errorCode, o.info);
      } else if (problems.has(connectorId)) {
        await problem(connectorId, false, at, problems.get(connectorId));
        problems.delete(connectorId);
      }
      if (connectorId === 0) return; // no station-level StatusNotification in 2.x
      const connectorStatus = status === 'Charging' ? 'Occupied' : status;
      await c.call('StatusNotification', { timestamp: at, connectorStatus, evseId: connectorId, connectorId: 1 });
    },
    async startSession(connectorId, meterStart) {
      const transactionId = `TX-${++n}`;
      await c.call('TransactionEvent', {
        eventType: 'Started', seqNo: 0, timestamp: new Date().toISOString(), triggerReason: 'Authorized', evse: { id: connectorId, connectorId: 1 },
        idToken: { idToken: 'T1', type: 'ISO14443' }, transactionInfo: { transactionId, chargingState: 'Charging' },
        meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: meterStart, context: 'Transaction.Begin' }] }],
      });
      return transactionId;
    },
    async meter(_connectorId, transactionId, wh) {
      await c.call('TransactionEvent', {
        eventType: 'Updated', seqNo: ++seq, timestamp: new Date().toISOString(), triggerReason: 'MeterValuePeriodic', transactionInfo: { transactionId },
        meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: wh }] }],
      });
    },
    async stopSession(_connectorId, transactionId, meterStop, reason = 'Local') {
      await c.call('TransactionEvent', {
        eventType: 'Ended', seqNo: ++seq, timestamp: new Date().toISOString(), triggerReason: 'StopAuthorized', transactionInfo: { transactionId, stoppedReason: reason },
        meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: meterStop, context: 'Transaction.End' }] }],
      });
    },
    async heartbeat() {
      await c.call('Heartbeat', {});
    },
    close: () => c.close().then(() => undefined),
  };
}
