/**
 * How a charger of each OCPP generation says the same things. The simulator
 * stands alone: it imports nothing from the server, so it can drive any CSMS.
 */
type Call = [action: string, payload: Record<string, unknown>];

export interface Dialect {
  /** 2.x chargers run sessions offline with their own transaction ids; 1.6 needs the CSMS's id first. */
  offlineSessions: boolean;
  boot(): Call;
  heartbeat(): Call;
  status(connectorId: number, status: string, at: Date): Call;
  /** A session start; a remote start names its token and (2.x) the CSMS's remoteStartId. */
  startSession(connectorId: number, localId: string, meterWh: number, at: Date, remote?: { idTag: string; remoteStartId?: number }): Call;
  meter(connectorId: number, transactionId: string, meterWh: number, powerW: number, at: Date): Call;
  stopSession(connectorId: number, transactionId: string, meterWh: number, reason: string, at: Date): Call;
  /** A fault raised (with the charger's info text) or cleared: the message(s) a charger of this generation sends. */
  fault(connectorId: number, code: string, raised: boolean, at: Date, info?: string): Call[];
  /** Fields that mark a replayed message as sent while offline. */
  offlineMark(action: string): Record<string, unknown>;
}

const ocpp16: Dialect = {
  offlineSessions: false,
  boot: () => ['BootNotification', { chargePointVendor: 'Dynamo', chargePointModel: 'Simulator', firmwareVersion: '1.0.0' }],
  heartbeat: () => ['Heartbeat', {}],
  status: (connectorId, status, at) => ['StatusNotification', { connectorId, errorCode: 'NoError', status, timestamp: at.toISOString() }],
  startSession: (connectorId, _local, meterWh, at, remote) => ['StartTransaction', { connectorId, idTag: remote?.idTag ?? 'SIMTAG', meterStart: meterWh, timestamp: at.toISOString() }],
  meter: (connectorId, transactionId, meterWh, powerW, at) => [
    'MeterValues',
    {
      connectorId,
      transactionId: Number(transactionId),
      meterValue: [{ timestamp: at.toISOString(), sampledValue: [{ value: String(meterWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }, { value: String(Math.round(powerW)), measurand: 'Power.Active.Import', unit: 'W' }] }],
    },
  ],
  stopSession: (_c, transactionId, meterWh, reason, at) => ['StopTransaction', { transactionId: Number(transactionId), meterStop: meterWh, timestamp: at.toISOString(), reason }],
  fault: (connectorId, code, raised, at, info) => [
    ['StatusNotification', {
      connectorId, errorCode: raised ? code : 'NoError', status: raised ? 'Faulted' : 'Available', timestamp: at.toISOString(), ...(raised && info ? { info } : {}),
    }],
  ],
  offlineMark: () => ({}),
};

function ocpp2(): Dialect {
  const seq = new Map<string, number>();
  const nextSeq = (tx: string) => {
    const n = seq.get(tx) ?? 0;
    seq.set(tx, n + 1);
    return n;
  };
  const energy = (meterWh: number, at: Date, context: string, powerW?: number) => [
    {
      timestamp: at.toISOString(),
      sampledValue: [
        { value: meterWh, measurand: 'Energy.Active.Import.Register', context },
        ...(powerW ? [{ value: Math.round(powerW), measurand: 'Power.Active.Import', context }] : []),
      ],
    },
  ];
  return {
    offlineSessions: true,
    boot: () => ['BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'Dynamo', model: 'Simulator', firmwareVersion: '1.0.0' } }],
    heartbeat: () => ['Heartbeat', {}],
    status: (evseId, status, at) => [
      'StatusNotification',
      { timestamp: at.toISOString(), connectorStatus: status === 'Charging' || status === 'Preparing' ? 'Occupied' : status, evseId, connectorId: 1 },
    ],
    startSession: (evseId, localId, meterWh, at, remote) => [
      'TransactionEvent',
      {
        eventType: 'Started', timestamp: at.toISOString(), triggerReason: remote ? 'RemoteStart' : 'Authorized', seqNo: nextSeq(localId),
        transactionInfo: { transactionId: localId, chargingState: 'Charging', ...(remote?.remoteStartId !== undefined ? { remoteStartId: remote.remoteStartId } : {}) },
        evse: { id: evseId, connectorId: 1 },
        idToken: remote ? { idToken: remote.idTag, type: 'Central' } : { idToken: 'SIMTAG', type: 'ISO14443' }, meterValue: energy(meterWh, at, 'Transaction.Begin'),
      },
    ],
    meter: (_evse, transactionId, meterWh, powerW, at) => [
      'TransactionEvent',
      {
        eventType: 'Updated', timestamp: at.toISOString(), triggerReason: 'MeterValuePeriodic', seqNo: nextSeq(transactionId),
        transactionInfo: { transactionId }, meterValue: energy(meterWh, at, 'Sample.Periodic', powerW),
      },
    ],
    stopSession: (_evse, transactionId, meterWh, reason, at) => [
      'TransactionEvent',
      {
        eventType: 'Ended', timestamp: at.toISOString(),
        triggerReason: reason === 'EVDisconnected' ? 'EVCommunicationLost' : reason === 'Remote' ? 'RemoteStop' : 'AbnormalCondition',
        seqNo: nextSeq(transactionId), transactionInfo: { transactionId, stoppedReason: reason }, meterValue: energy(meterWh, at, 'Transaction.End'),
      },
    ],
    fault: (evseId, code, raised, at, info) => [
      [
        'NotifyEvent',
        {
          generatedAt: at.toISOString(), seqNo: 0,
          eventData: [{
            eventId: 1, timestamp: at.toISOString(), trigger: 'Alerting', actualValue: raised ? 'true' : 'false', techCode: code, ...(raised && info ? { techInfo: info } : {}),
            eventNotificationType: 'HardWiredNotification', component: { name: 'Connector', evse: { id: evseId, connectorId: 1 } }, variable: { name: 'Problem' },
          }],
        },
      ],
      ['StatusNotification', { timestamp: at.toISOString(), connectorStatus: raised ? 'Faulted' : 'Available', evseId, connectorId: 1 }],
    ],
    offlineMark: (action) => (action === 'TransactionEvent' ? { offline: true } : {}),
  };
}

export function dialectFor(protocol: string): Dialect {
  return protocol === 'ocpp1.6' ? ocpp16 : ocpp2();
}
