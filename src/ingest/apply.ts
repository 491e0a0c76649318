import type { Queryable } from '../store/db.js';
import type { ApplyResult, ChargerEvent } from './events.js';
import { closeConnection, openConnection } from '../store/history/connections.js';
import { recordBoot, recordDiagnosticsStatus, recordFirmwareStatus } from '../store/history/charger-state.js';
import { recordStatus } from '../store/history/connector-status.js';
import { endSession, findSessionId, recordMeterSamples, startSession } from '../store/history/sessions.js';
import { recordChargerMessage } from '../store/history/messages.js';

/** Applies one event inside the writer's transaction. */
export async function applyEvent(tx: Queryable, e: ChargerEvent): Promise<ApplyResult> {
  switch (e.type) {
    case 'Connected':
      return {
        connectionId: await openConnection(tx, {
          chargePointId: e.cp,
          nodeId: e.nodeId,
          ocppVersion: e.ocppVersion,
          remoteAddress: e.remoteAddress,
          at: e.at,
        }),
      };
    case 'Disconnected':
      await closeConnection(tx, e.connectionId, e.at, e.reason);
      return {};
    case 'Booted':
      await recordBoot(tx, e.cp, e.at, e.boot);
      return {};
    case 'StatusChanged':
      await recordStatus(tx, { ...e, chargePointId: e.cp });
      return {};
    case 'SessionStarted': {
      const { transactionId } = await startSession(tx, {
        chargePointId: e.cp,
        connectorId: e.connectorId,
        idTag: e.idTag,
        meterStartWh: e.meterStartWh,
        startedAt: e.at,
        receivedAt: e.receivedAt,
        transactionId: e.transactionId,
      });
      return { transactionId };
    }
    case 'MeterSampled': {
      const sessionId = e.transactionId === null ? null : ((await findSessionId(tx, e.cp, e.transactionId)) ?? null);
      const unknownTransaction = e.transactionId !== null && sessionId === null;
      if (unknownTransaction) {
        await recordChargerMessage(tx, {
          chargePointId: e.cp,
          kind: 'MeterValuesForUnknownTransaction',
          payload: { transactionId: e.transactionId, connectorId: e.connectorId },
          occurredAt: e.samples[0]?.sampledAt ?? e.receivedAt,
          receivedAt: e.receivedAt,
        });
      }
      await recordMeterSamples(tx, { chargePointId: e.cp, connectorId: e.connectorId, sessionId, samples: e.samples });
      return { unknownTransaction };
    }
    case 'SessionEnded': {
      const sessionId = await endSession(tx, {
        chargePointId: e.cp,
        transactionId: e.transactionId,
        stoppedAt: e.at,
        meterStopWh: e.meterStopWh,
        reason: e.reason,
      });
      if (sessionId === undefined) {
        await recordChargerMessage(tx, {
          chargePointId: e.cp,
          kind: 'StopForUnknownTransaction',
          payload: { transactionId: e.transactionId, meterStopWh: e.meterStopWh, reason: e.reason },
          occurredAt: e.at,
          receivedAt: e.receivedAt,
        });
      }
      return { unknownTransaction: sessionId === undefined };
    }
    case 'FirmwareStatus':
      await recordFirmwareStatus(tx, e.cp, e.status);
      await recordChargerMessage(tx, { chargePointId: e.cp, kind: 'FirmwareStatus', payload: { status: e.status }, occurredAt: e.at, receivedAt: e.receivedAt });
      return {};
    case 'DiagnosticsStatus':
      await recordDiagnosticsStatus(tx, e.cp, e.status);
      await recordChargerMessage(tx, { chargePointId: e.cp, kind: 'DiagnosticsStatus', payload: { status: e.status }, occurredAt: e.at, receivedAt: e.receivedAt });
      return {};
    case 'Noted':
      await recordChargerMessage(tx, { chargePointId: e.cp, kind: e.kind, payload: e.payload, occurredAt: e.at, receivedAt: e.receivedAt });
      return {};
  }
}
