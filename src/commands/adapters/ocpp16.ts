import type { CommandName, CommandParams } from '../catalog.js';
import { NotSupportedByVersion } from '../errors.js';
import { POWER_LIMIT_PROFILE_ID, outcomeOfStatus, powerLimit, stationWide, statusField, type CommandAdapter, type OcppCall } from './adapter.js';

/** TriggerMessage names OCPP 1.6 knows (§7.44 MessageTrigger); its DiagnosticsStatusNotification is 2.x's LogStatusNotification. */
const TRIGGERS_16: Record<string, string> = {
  BootNotification: 'BootNotification', Heartbeat: 'Heartbeat', MeterValues: 'MeterValues', StatusNotification: 'StatusNotification',
  FirmwareStatusNotification: 'FirmwareStatusNotification', DiagnosticsStatusNotification: 'DiagnosticsStatusNotification',
  LogStatusNotification: 'DiagnosticsStatusNotification',
};

/** OCPP 1.6 (Core, Remote Trigger, Smart Charging, Firmware Management): commands → CALLs (§5). */
export const ocpp16Commands: CommandAdapter = {
  async toCall(command: CommandName, params: CommandParams, ctx): Promise<OcppCall> {
    const p = params as Record<string, any>;
    switch (command) {
      case 'start_session':
        // §5.11: idTag is IdToken, CiString20.
        if (p.id_tag.length > 20) throw new NotSupportedByVersion('OCPP 1.6 idTag is at most 20 characters');
        return { action: 'RemoteStartTransaction', payload: { connectorId: p.connector_id, idTag: p.id_tag } };
      case 'stop_session': {
        // §5.12: the transactionId we handed out in StartTransaction.conf, an integer.
        const id = Number(ctx.transactionId);
        if (!Number.isSafeInteger(id)) throw new NotSupportedByVersion('the session has no OCPP 1.6 transaction id');
        return { action: 'RemoteStopTransaction', payload: { transactionId: id } };
      }
      case 'set_available':
      case 'set_unavailable':
        return { action: 'ChangeAvailability', payload: { connectorId: p.connector_id ?? 0, type: command === 'set_available' ? 'Operative' : 'Inoperative' } };
      case 'soft_reset':
      case 'hard_reset':
        return { action: 'Reset', payload: { type: command === 'soft_reset' ? 'Soft' : 'Hard' } };
      case 'unlock_connector':
        return { action: 'UnlockConnector', payload: { connectorId: p.connector_id } };
      case 'set_power_limit': {
        // §3.13.2: ChargePointMaxProfile only on connector 0; one connector's limit is its TxDefaultProfile.
        const { unit, limit } = powerLimit(p as CommandParams<'set_power_limit'>);
        const whole = stationWide(p.connector_id);
        return {
          action: 'SetChargingProfile',
          payload: {
            connectorId: whole ? 0 : p.connector_id,
            csChargingProfiles: {
              chargingProfileId: POWER_LIMIT_PROFILE_ID,
              stackLevel: 0,
              chargingProfilePurpose: whole ? 'ChargePointMaxProfile' : 'TxDefaultProfile',
              chargingProfileKind: 'Absolute',
              chargingSchedule: {
                ...(p.duration_seconds ? { duration: p.duration_seconds } : {}),
                startSchedule: ctx.now.toISOString(),
                chargingRateUnit: unit,
                chargingSchedulePeriod: [{ startPeriod: 0, limit }],
              },
            },
          },
        };
      }
      case 'clear_power_limit':
        return {
          action: 'ClearChargingProfile',
          payload: stationWide(p.connector_id)
            ? { id: POWER_LIMIT_PROFILE_ID }
            : { id: POWER_LIMIT_PROFILE_ID, connectorId: p.connector_id, chargingProfilePurpose: 'TxDefaultProfile' },
        };
      case 'get_configuration':
        if (p.keys?.some((k: string) => k.length > 50)) throw new NotSupportedByVersion('OCPP 1.6 configuration keys are at most 50 characters');
        return { action: 'GetConfiguration', payload: p.keys ? { key: p.keys } : {} };
      case 'change_configuration':
        if (p.key.length > 50 || p.value.length > 500) throw new NotSupportedByVersion('OCPP 1.6 keys are at most 50 characters and values at most 500');
        return { action: 'ChangeConfiguration', payload: { key: p.key, value: p.value } };
      case 'trigger_message': {
        const requestedMessage = TRIGGERS_16[p.message];
        if (!requestedMessage) throw new NotSupportedByVersion(`OCPP 1.6 cannot trigger ${p.message}`);
        return { action: 'TriggerMessage', payload: { requestedMessage, ...(stationWide(p.connector_id) ? {} : { connectorId: p.connector_id }) } };
      }
      case 'update_firmware':
        return { action: 'UpdateFirmware', payload: { location: p.location, retrieveDate: p.retrieve_at ? new Date(p.retrieve_at).toISOString() : ctx.now.toISOString() } };
      case 'get_diagnostics':
        return { action: 'GetDiagnostics', payload: { location: p.location } };
      case 'data_transfer':
        return { action: 'DataTransfer', payload: { vendorId: p.vendor_id, ...(p.message_id ? { messageId: p.message_id } : {}), ...(p.data !== undefined ? { data: p.data } : {}) } };
    }
  },

  outcome(_action, response) {
    // GetConfiguration, UpdateFirmware and GetDiagnostics answer without a status: an answer is acceptance.
    return outcomeOfStatus(statusField(response));
  },
};
