import type { RPCClient } from 'ocpp-rpc';

/** What the answering side needs from the charger it speaks for. */
export interface ChargerHost {
  readonly protocol: 'ocpp1.6' | 'ocpp2.0.1' | 'ocpp2.1';
  readonly connectors: number;
  /** Time between the steps of a long operation (firmware download, log upload, reboot). */
  readonly stepMs: number;
  /** Sends a CALL to the CSMS (queued while offline, as the charger's own messages are). */
  send(action: string, payload: Record<string, unknown>): Promise<unknown>;
  /** The charger's status message for one connector now (its dialect). */
  statusCall(connectorId: number, status: string): [string, Record<string, unknown>];
  /** The connector's status as the charger sees it, availability included. */
  connectorStatus(connectorId: number): string;
  /** Drops the connection and comes back after `ms` with a BootNotification (a reboot). */
  reboot(ms: number): void;
  /** Starts a session on the connector for a remote request; false if it cannot (busy, unavailable). */
  remoteStart(connectorId: number, idTag: string, remoteStartId?: number): boolean;
  /** Stops the session with this transaction id; false if there is none. */
  remoteStop(transactionId: string): boolean;
  /** The connector's session's transaction id, if one is running on it. */
  sessionOn(connectorId: number): string | undefined;
  /** Makes connectors (0: all) unavailable or available again. */
  setAvailable(connectorId: number, available: boolean): void;
  heartbeatIntervalSec(): number;
  setHeartbeatIntervalSec(sec: number): void;
}

type Params = Record<string, any>;

/**
 * Answers what a CSMS asks, as a real charger of the host's generation does (OCPP 1.6 §5,
 * 2.0.1 B–P): a reset reboots after a moment; availability changes are reported with
 * StatusNotification; a firmware update walks Downloading → Downloaded → Installing → Installed;
 * a diagnostics request uploads (Uploading → Uploaded); remote start and stop run a session.
 */
export function answerCsmsRequests(client: RPCClient, host: ChargerHost): void {
  const v16 = host.protocol === 'ocpp1.6';
  const later = (ms: number, f: () => Promise<unknown> | void) => {
    setTimeout(() => void Promise.resolve().then(f).catch(() => undefined), ms);
  };
  const reportStatus = (connectorIds: number[]) => later(0, async () => {
    for (const c of connectorIds) await host.send(...host.statusCall(c, host.connectorStatus(c)));
  });
  const all = () => Array.from({ length: host.connectors }, (_, i) => i + 1);
  const validConnector = (c: number) => Number.isInteger(c) && c >= 1 && c <= host.connectors;

  // Configuration: 1.6 keys, 2.x "Component.Variable" (AuthorizationKey / BasicAuthPassword are write-only).
  const config = new Map<string, { value: string; readonly: boolean; writeOnly?: boolean }>(
    v16
      ? [
          ['HeartbeatInterval', { value: String(host.heartbeatIntervalSec()), readonly: false }],
          ['NumberOfConnectors', { value: String(host.connectors), readonly: true }],
          ['MeterValueSampleInterval', { value: '10', readonly: false }],
          ['AuthorizationKey', { value: '', readonly: false, writeOnly: true }],
        ]
      : [
          ['OCPPCommCtrlr.HeartbeatInterval', { value: String(host.heartbeatIntervalSec()), readonly: false }],
          ['EVSE.Count', { value: String(host.connectors), readonly: true }],
          ['SampledDataCtrlr.TxUpdatedInterval', { value: '10', readonly: false }],
          ['SecurityCtrlr.BasicAuthPassword', { value: '', readonly: false, writeOnly: true }],
        ],
  );
  const setConfig = (key: string, value: string): 'Accepted' | 'Rejected' | 'NotSupported' => {
    const entry = config.get(key);
    if (!entry) return 'NotSupported';
    if (entry.readonly) return 'Rejected';
    if (/HeartbeatInterval$/.test(key)) {
      const sec = Number(value);
      if (!Number.isInteger(sec) || sec < 1) return 'Rejected';
      host.setHeartbeatIntervalSec(sec);
    }
    entry.value = value;
    return 'Accepted';
  };

  if (v16) {
    client.handle('GetConfiguration', async ({ params = {} }: { params?: Params }) => {
      const keys: string[] | undefined = params?.key;
      const known = [...config.entries()].filter(([k, e]) => !e.writeOnly && (!keys || keys.includes(k)));
      return {
        configurationKey: known.map(([key, e]) => ({ key, readonly: e.readonly, value: e.value })),
        ...(keys ? { unknownKey: keys.filter((k) => !config.has(k) || config.get(k)!.writeOnly) } : {}),
      };
    });
    client.handle('ChangeConfiguration', async ({ params = {} }: { params?: Params }) => ({ status: setConfig(params.key, params.value) }));
  } else {
    const name = (v: Params) => `${v.component?.name}.${v.variable?.name}`;
    client.handle('GetVariables', async ({ params = {} }: { params?: Params }) => ({
      getVariableResult: (params.getVariableData as Params[]).map((v) => {
        const e = config.get(name(v));
        return e && !e.writeOnly
          ? { attributeStatus: 'Accepted', attributeValue: e.value, component: v.component, variable: v.variable }
          : { attributeStatus: e ? 'Rejected' : 'UnknownVariable', component: v.component, variable: v.variable };
      }),
    }));
    client.handle('SetVariables', async ({ params = {} }: { params?: Params }) => ({
      setVariableResult: (params.setVariableData as Params[]).map((v) => {
        const s = setConfig(name(v), v.attributeValue);
        return { attributeStatus: s === 'NotSupported' ? 'UnknownVariable' : s, component: v.component, variable: v.variable };
      }),
    }));
  }

  client.handle('TriggerMessage', async ({ params = {} }: { params?: Params }) => {
    const requested: string = params.requestedMessage;
    const connectorId: number | undefined = v16 ? params.connectorId : params.evse?.id;
    const send: Record<string, () => Promise<unknown>> = {
      Heartbeat: () => host.send('Heartbeat', {}),
      StatusNotification: async () => reportStatus(connectorId ? [connectorId] : all()),
      FirmwareStatusNotification: () => host.send('FirmwareStatusNotification', { status: 'Idle' }),
      ...(v16
        ? { DiagnosticsStatusNotification: () => host.send('DiagnosticsStatusNotification', { status: 'Idle' }) }
        : { LogStatusNotification: () => host.send('LogStatusNotification', { status: 'Idle' }) }),
    };
    const action = send[requested];
    if (!action) return { status: requested === 'BootNotification' || requested === 'MeterValues' ? 'Rejected' : 'NotImplemented' };
    later(0, action);
    return { status: 'Accepted' };
  });

  client.handle('Reset', async () => {
    host.reboot(host.stepMs);
    return { status: 'Accepted' };
  });

  client.handle(v16 ? 'RemoteStartTransaction' : 'RequestStartTransaction', async ({ params = {} }: { params?: Params }) => {
    const connectorId: number = v16 ? params.connectorId ?? 1 : params.evseId ?? 1;
    const idTag: string = v16 ? params.idTag : params.idToken?.idToken;
    const ok = validConnector(connectorId) && host.remoteStart(connectorId, idTag, v16 ? undefined : params.remoteStartId);
    return { status: ok ? 'Accepted' : 'Rejected' };
  });

  client.handle(v16 ? 'RemoteStopTransaction' : 'RequestStopTransaction', async ({ params = {} }: { params?: Params }) => ({
    status: host.remoteStop(String(params.transactionId)) ? 'Accepted' : 'Rejected',
  }));

  client.handle('ChangeAvailability', async ({ params = {} }: { params?: Params }) => {
    const connectorId: number = v16 ? params.connectorId : params.evse?.id ?? 0;
    const available = (v16 ? params.type : params.operationalStatus) === 'Operative';
    if (connectorId !== 0 && !validConnector(connectorId)) return { status: 'Rejected' };
    const affected = connectorId === 0 ? all() : [connectorId];
    // A connector in a transaction changes once the transaction ends (1.6 §5.2, 2.0.1 G03).
    const busy = !available && affected.some((c) => host.sessionOn(c) !== undefined);
    host.setAvailable(connectorId, available);
    reportStatus(affected);
    return { status: busy ? 'Scheduled' : 'Accepted' };
  });

  client.handle('UnlockConnector', async ({ params = {} }: { params?: Params }) => {
    const connectorId: number = v16 ? params.connectorId : params.evseId;
    if (!validConnector(connectorId)) return { status: v16 ? 'UnlockFailed' : 'UnknownConnector' };
    if (!v16 && host.sessionOn(connectorId)) return { status: 'OngoingAuthorizedTransaction' };
    return { status: 'Unlocked' };
  });

  const profiles = new Set<number>();
  client.handle('SetChargingProfile', async ({ params = {} }: { params?: Params }) => {
    const profile = v16 ? params.csChargingProfiles : params.chargingProfile;
    profiles.add(v16 ? profile.chargingProfileId : profile.id);
    return { status: 'Accepted' };
  });
  client.handle('ClearChargingProfile', async ({ params = {} }: { params?: Params }) => {
    const id: number | undefined = v16 ? params.id : params.chargingProfileId;
    if (id === undefined) {
      const had = profiles.size > 0;
      profiles.clear();
      return { status: had ? 'Accepted' : 'Unknown' };
    }
    return { status: profiles.delete(id) ? 'Accepted' : 'Unknown' };
  });

  client.handle('UpdateFirmware', async ({ params = {} }: { params?: Params }) => {
    const requestId = v16 ? {} : { requestId: params.requestId };
    const steps = ['Downloading', 'Downloaded', 'Installing', 'Installed'];
    steps.forEach((status, i) => later(host.stepMs * (i + 1), () => host.send('FirmwareStatusNotification', { status, ...requestId })));
    return v16 ? {} : { status: 'Accepted' };
  });

  if (v16) {
    client.handle('GetDiagnostics', async () => {
      ['Uploading', 'Uploaded'].forEach((status, i) => later(host.stepMs * (i + 1), () => host.send('DiagnosticsStatusNotification', { status })));
      return { fileName: 'diagnostics.zip' };
    });
  } else {
    client.handle('GetLog', async ({ params = {} }: { params?: Params }) => {
      ['Uploading', 'Uploaded'].forEach((status, i) => later(host.stepMs * (i + 1), () => host.send('LogStatusNotification', { status, requestId: params.requestId })));
      return { status: 'Accepted', filename: 'diagnostics.zip' };
    });
  }

  client.handle('DataTransfer', async ({ params = {} }: { params?: Params }) =>
    params.vendorId === 'Dynamo' ? { status: 'Accepted', ...(params.data !== undefined ? { data: params.data } : {}) } : { status: 'UnknownVendorId' },
  );
}
