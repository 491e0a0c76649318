import type { CommandName, CommandParams } from '../catalog.js';
import { NotSupportedByVersion } from '../errors.js';
import { POWER_LIMIT_PROFILE_ID, outcomeOfStatus, powerLimit, stationWide, statusField, type CommandAdapter, type OcppCall } from './adapter.js';

/** TriggerMessage names of OCPP 2.0.1 (F06 MessageTriggerEnumType); 2.1 adds a few we do not offer. */
const TRIGGERS_2: Record<string, string> = {
  BootNotification: 'BootNotification', Heartbeat: 'Heartbeat', MeterValues: 'MeterValues', StatusNotification: 'StatusNotification',
  FirmwareStatusNotification: 'FirmwareStatusNotification', LogStatusNotification: 'LogStatusNotification',
  DiagnosticsStatusNotification: 'LogStatusNotification', TransactionEvent: 'TransactionEvent',
  SignChargingStationCertificate: 'SignChargingStationCertificate', SignV2GCertificate: 'SignV2GCertificate',
  SignCombinedCertificate: 'SignCombinedCertificate', PublishFirmwareStatusNotification: 'PublishFirmwareStatusNotification',
};

/** "Component.Variable" (the API's way to name a 2.x device-model variable, as error codes do). */
function componentVariable(key: string): { component: { name: string }; variable: { name: string } } {
  const dot = key.indexOf('.');
  if (dot <= 0 || dot === key.length - 1) throw new NotSupportedByVersion(`OCPP 2.x names a variable as "Component.Variable"; got "${key}"`);
  const component = key.slice(0, dot);
  const variable = key.slice(dot + 1);
  if (component.length > 50 || variable.length > 50) throw new NotSupportedByVersion('OCPP 2.x component and variable names are at most 50 characters');
  return { component: { name: component }, variable: { name: variable } };
}

/**
 * OCPP 2.0.1 and 2.1 (same messages for everything here): commands → CALLs. The API's
 * connector_id is the EVSE id (docs/ocpp.md); UnlockConnector names connector 1 of it.
 */
export const ocpp2Commands: CommandAdapter = {
  async toCall(command: CommandName, params: CommandParams, ctx): Promise<OcppCall> {
    const p = params as Record<string, any>;
    const evse = stationWide(p.connector_id) ? {} : { evse: { id: p.connector_id } };
    switch (command) {
      case 'start_session':
        // F02: remoteStartId comes back in the TransactionEvent that starts the transaction.
        return {
          action: 'RequestStartTransaction',
          payload: { evseId: p.connector_id, remoteStartId: await ctx.requestId(), idToken: { idToken: p.id_tag, type: p.id_tag_type ?? 'Central' } },
        };
      case 'stop_session':
        if (!ctx.transactionId) throw new NotSupportedByVersion('the session has no transaction id');
        return { action: 'RequestStopTransaction', payload: { transactionId: ctx.transactionId } };
      case 'set_available':
      case 'set_unavailable':
        return { action: 'ChangeAvailability', payload: { operationalStatus: command === 'set_available' ? 'Operative' : 'Inoperative', ...evse } };
      case 'soft_reset':
      case 'hard_reset':
        // B11/B12: OnIdle waits for transactions to end (1.6 Soft); Immediate stops them (1.6 Hard).
        return { action: 'Reset', payload: { type: command === 'soft_reset' ? 'OnIdle' : 'Immediate' } };
      case 'unlock_connector':
        return { action: 'UnlockConnector', payload: { evseId: p.connector_id, connectorId: 1 } };
      case 'set_power_limit': {
        // K01: ChargingStationMaxProfile only on EVSE 0; one EVSE's limit is its TxDefaultProfile.
        const { unit, limit } = powerLimit(p as CommandParams<'set_power_limit'>);
        const whole = stationWide(p.connector_id);
        return {
          action: 'SetChargingProfile',
          payload: {
            evseId: whole ? 0 : p.connector_id,
            chargingProfile: {
              id: POWER_LIMIT_PROFILE_ID,
              stackLevel: 0,
              chargingProfilePurpose: whole ? 'ChargingStationMaxProfile' : 'TxDefaultProfile',
              chargingProfileKind: 'Absolute',
              chargingSchedule: [{
                id: 1,
                startSchedule: ctx.now.toISOString(),
                ...(p.duration_seconds ? { duration: p.duration_seconds } : {}),
                chargingRateUnit: unit,
                chargingSchedulePeriod: [{ startPeriod: 0, limit }],
              }],
            },
          },
        };
      }
      case 'clear_power_limit':
        return { action: 'ClearChargingProfile', payload: { chargingProfileId: POWER_LIMIT_PROFILE_ID } };
      case 'get_configuration':
        // 2.x has no "every variable" read answered in the CALLRESULT (GetBaseReport answers by NotifyReport).
        if (!p.keys) throw new NotSupportedByVersion('OCPP 2.x reads named variables only: give keys as "Component.Variable"');
        return { action: 'GetVariables', payload: { getVariableData: p.keys.map(componentVariable) } };
      case 'change_configuration':
        if (p.value.length > 1000) throw new NotSupportedByVersion('OCPP 2.x attribute values are at most 1000 characters');
        return { action: 'SetVariables', payload: { setVariableData: [{ ...componentVariable(p.key), attributeValue: p.value }] } };
      case 'trigger_message': {
        const requestedMessage = TRIGGERS_2[p.message];
        if (!requestedMessage) throw new NotSupportedByVersion(`OCPP 2.x cannot trigger ${p.message}`);
        return { action: 'TriggerMessage', payload: { requestedMessage, ...evse } };
      }
      case 'update_firmware':
        return {
          action: 'UpdateFirmware',
          payload: {
            requestId: await ctx.requestId(),
            firmware: { location: p.location, retrieveDateTime: p.retrieve_at ? new Date(p.retrieve_at).toISOString() : ctx.now.toISOString() },
          },
        };
      case 'get_diagnostics':
        return { action: 'GetLog', payload: { logType: 'DiagnosticsLog', requestId: await ctx.requestId(), log: { remoteLocation: p.location } } };
      case 'data_transfer':
        return { action: 'DataTransfer', payload: { vendorId: p.vendor_id, ...(p.message_id ? { messageId: p.message_id } : {}), ...(p.data !== undefined ? { data: p.data } : {}) } };
    }
  },

  outcome(action, response) {
    if (action === 'SetVariables') {
      const first = (response as { setVariableResult?: { attributeStatus?: string }[] } | null)?.setVariableResult?.[0];
      return outcomeOfStatus(first?.attributeStatus ?? 'Rejected');
    }
    // GetVariables answers per variable: the command is Accepted, the results are in the response.
    if (action === 'GetVariables') return 'Accepted';
    return outcomeOfStatus(statusField(response));
  },
};
