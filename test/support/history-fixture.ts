import type { Db } from '../../src/store/db.js';
import { applyBatch } from '../../src/ingest/batch.js';
import { insertCharger } from '../../src/store/chargers.js';
import type { ChargerEvent } from '../../src/ingest/events.js';

/**
 * Writes charger history with chosen timestamps through the store layer (the
 * same dynamo_apply() path ingest uses), for metrics that need days of history.
 */
export function historyFixture(db: Db, tenantId: string, siteId: string) {
  /** The events of one message, committed together. */
  const apply = async (...events: ChargerEvent[]) => (await applyBatch(db, [events])).results[0]!;
  return {
    async charger(id: string, registeredAt: Date) {
      await insertCharger(db, { chargePointId: id, tenantId, siteId, passwordHash: null, registeredAt });
      return id;
    },
    async connected(cp: string, at: Date): Promise<number> {
      const [r] = await apply({ type: 'Connected', cp, at, nodeId: 'fixture', ocppVersion: '1.6', remoteAddress: null });
      return r!.connectionId!;
    },
    async disconnected(cp: string, connectionId: number, at: Date) {
      await apply({ type: 'Disconnected', cp, connectionId, at, reason: 'closed_by_charger' });
    },
    async status(cp: string, connectorId: number, status: string, at: Date, errorCode = 'NoError') {
      await apply({
        type: 'StatusChanged', cp, connectorId, evseId: null, status, errorCode, info: null, vendorId: null,
        vendorErrorCode: null, chargerTime: at, at, receivedAt: at,
      });
    },
    async sessionStarted(cp: string, connectorId: number, at: Date, meterStartWh: number): Promise<string> {
      const [r] = await apply({ type: 'SessionStarted', cp, connectorId, idTag: 'FIXTURE', meterStartWh, at, receivedAt: at });
      return r!.transactionId!;
    },
    async meter(cp: string, connectorId: number, transactionId: string, at: Date, wh: number) {
      await apply({
        type: 'MeterSampled', cp, connectorId, transactionId, receivedAt: at,
        samples: [{ sampledAt: at, measurand: 'Energy.Active.Import.Register', phase: null, value: wh, unit: 'Wh', context: null }],
      });
    },
    async sessionEnded(cp: string, transactionId: string, at: Date, meterStopWh: number) {
      await apply({ type: 'SessionEnded', cp, transactionId, meterStopWh, reason: 'Local', at, receivedAt: at });
    },
  };
}
