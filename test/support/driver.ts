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
  /** `at`: the charger's timestamp (a replayed, offline-queued message may carry a past one). */
  startSession(connectorId: number, meterStartWh: number, opts?: { at?: string }): Promise<string>;
  /** With `powerW`, a Power.Active.Import reading beside the energy register (in kW when `powerUnit` is kW). */
  meter(connectorId: number, transactionId: string, wh: number, opts?: { at?: string; powerW?: number; powerUnit?: 'W' | 'kW' }): Promise<void>;
  stopSession(connectorId: number, transactionId: string, meterStopWh: number, reason?: string, opts?: { at?: string }): Promise<void>;
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
    async startSession(connectorId, meterStart, o = {}) {
      const r = await c.call('StartTransaction', { connectorId, idTag: 'T1', meterStart, timestamp: o.at ?? new Date().toISOString() });
      return String(r.transactionId);
    },
    async meter(connectorId, transactionId, wh, o = {}) {
      const power = o.powerW === undefined ? [] : [{
        value: String(o.powerUnit === 'kW' ? o.powerW / 1000 : o.powerW), measurand: 'Power.Active.Import', unit: o.powerUnit ?? 'W',
      }];
      await c.call('MeterValues', {
        connectorId, transactionId: Number(transactionId),
        meterValue: [{ timestamp: o.at ?? new Date().toISOString(), sampledValue: [{ value: String(wh), unit: 'Wh' }, ...power] }],
      });
    },
    async stopSession(_connectorId, transactionId, meterStop, reason = 'Local', o = {}) {
      await c.call('StopTransaction', { transactionId: Number(transactionId), meterStop, timestamp: o.at ?? new Date().toISOString(), reason });
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
    async startSession(connectorId, meterStart, o = {}) {
      const transactionId = `TX-${++n}`;
      const at = o.at ?? new Date().toISOString();
      await c.call('TransactionEvent', {
        eventType: 'Started', seqNo: 0, timestamp: at, triggerReason: 'Authorized', evse: { id: connectorId, connectorId: 1 },
        idToken: { idToken: 'T1', type: 'ISO14443' }, transactionInfo: { transactionId, chargingState: 'Charging' },
        meterValue: [{ timestamp: at, sampledValue: [{ value: meterStart, context: 'Transaction.Begin' }] }],
      });
      return transactionId;
    },
    async meter(_connectorId, transactionId, wh, o = {}) {
      const at = o.at ?? new Date().toISOString();
      const power = o.powerW === undefined ? [] : [{
        value: o.powerUnit === 'kW' ? o.powerW / 1000 : o.powerW, measurand: 'Power.Active.Import', unitOfMeasure: { unit: o.powerUnit ?? 'W' },
      }];
      await c.call('TransactionEvent', {
        eventType: 'Updated', seqNo: ++seq, timestamp: at, triggerReason: 'MeterValuePeriodic', transactionInfo: { transactionId },
        meterValue: [{ timestamp: at, sampledValue: [{ value: wh }, ...power] }],
      });
    },
    async stopSession(_connectorId, transactionId, meterStop, reason = 'Local', o = {}) {
      const at = o.at ?? new Date().toISOString();
      await c.call('TransactionEvent', {
        eventType: 'Ended', seqNo: ++seq, timestamp: at, triggerReason: 'StopAuthorized', transactionInfo: { transactionId, stoppedReason: reason },
        meterValue: [{ timestamp: at, sampledValue: [{ value: meterStop, context: 'Transaction.End' }] }],
      });
    },
    async heartbeat() {
      await c.call('Heartbeat', {});
    },
    close: () => c.close().then(() => undefined),
  };
}
