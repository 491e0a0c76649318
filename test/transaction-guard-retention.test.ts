import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { RetentionKeeper } from '../src/store/retention-keeper.js';
import { pruneTransactionGuard } from '../src/store/transaction-guard.js';
import { aCharger } from './support/builders.js';
import { dbKind } from './support/database.js';
import { eventually, history } from './support/history.js';
import { ocppTestbed } from './support/ocpp-testbed.js';

describe(`the seqNo guard of OCPP 2.x TransactionEvents is kept for DYNAMO_TRANSACTION_GUARD_DAYS (${dbKind})`, () => {
  const bed = ocppTestbed({ DYNAMO_TRANSACTION_GUARD_DAYS: '14' });
  const energy = (wh: number, at: Date) => [
    { timestamp: at.toISOString(), sampledValue: [{ value: wh, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] },
  ];
  const txEvent = (eventType: string, seqNo: number, transactionId: string, wh: number, at: Date) => ({
    eventType, seqNo, timestamp: at.toISOString(), triggerReason: 'MeterValuePeriodic', transactionInfo: { transactionId },
    ...(eventType === 'Started' ? { evse: { id: 1, connectorId: 1 } } : {}), meterValue: energy(wh, at),
  });
  const guardRows = (cp: string) =>
    bed.svc.service.db.query<{ transaction_id: string; seq_no: number }>(
      'SELECT transaction_id, seq_no FROM transaction_event_seq WHERE charge_point_id = $1 ORDER BY transaction_id, seq_no', [cp]);
  /** As if the guard rows of a transaction had been received `days` ago. */
  const age = (cp: string, transactionId: string, days: number) =>
    bed.svc.service.db.query(`UPDATE transaction_event_seq SET received_at = received_at - $3 * interval '1 day' WHERE charge_point_id = $1 AND transaction_id = $2`, [cp, transactionId, days]);

  it('deletes the rows past retention when the service runs its keeper, keeps the rest, and still recognises a retransmission within it', async () => {
    const cp = await aCharger(bed.t.api, bed.site);
    const t0 = new Date(Date.now() - 60_000);
    let c = await bed.connect(cp, 'ocpp2.0.1');
    await c.call('TransactionEvent', txEvent('Started', 0, 'OLD', 1000, t0));
    await c.call('TransactionEvent', txEvent('Updated', 1, 'OLD', 2000, new Date(t0.getTime() + 1000)));
    await c.call('TransactionEvent', txEvent('Started', 0, 'RECENT', 5000, new Date(t0.getTime() + 2000)));
    await c.call('TransactionEvent', txEvent('Updated', 1, 'RECENT', 6000, new Date(t0.getTime() + 3000)));
    expect(await guardRows(cp)).toHaveLength(4);
    await age(cp, 'OLD', 15);
    await age(cp, 'RECENT', 13);

    // The keeper runs when the service starts, then hourly.
    await bed.svc.restart();
    await eventually(() => guardRows(cp), (rows) => rows.length === 2);
    expect(await guardRows(cp)).toEqual([
      { transaction_id: 'RECENT', seq_no: 0 },
      { transaction_id: 'RECENT', seq_no: 1 },
    ]);

    // 13 days after the first copy, a retransmission is still recognised: its sample is not stored twice.
    c = await bed.connect(cp, 'ocpp2.0.1');
    await c.call('TransactionEvent', txEvent('Updated', 1, 'RECENT', 6000, new Date(t0.getTime() + 3000)));
    expect((await history(bed.svc.service.db).samples(cp)).map((s) => s.value)).toEqual([1000, 2000, 5000, 6000]);
    expect(await guardRows(cp)).toHaveLength(2);
  });

  it('deletes a backlog in chunks until none is left', async () => {
    const cp = await aCharger(bed.t.api, bed.site);
    const c = await bed.connect(cp, 'ocpp2.0.1');
    for (let seqNo = 0; seqNo < 5; seqNo++) await c.call('TransactionEvent', txEvent(seqNo ? 'Updated' : 'Started', seqNo, 'BACKLOG', 1000 + seqNo, new Date()));
    await age(cp, 'BACKLOG', 20);
    const keeper = new RetentionKeeper(createLogger('silent'), {
      what: 'transaction guard', retentionDays: 14, chunk: 2, prune: (before, chunk) => pruneTransactionGuard(bed.svc.service.db, before, chunk),
    });
    expect(await keeper.pruneNow()).toBeGreaterThanOrEqual(5);
    expect(await guardRows(cp)).toEqual([]);
  });

  it('validates DYNAMO_TRANSACTION_GUARD_DAYS', () => {
    expect(loadConfig({}).transactionGuardDays).toBe(14);
    expect(loadConfig({ DYNAMO_TRANSACTION_GUARD_DAYS: '30' }).transactionGuardDays).toBe(30);
    expect(() => loadConfig({ DYNAMO_TRANSACTION_GUARD_DAYS: '0' })).toThrow(/DYNAMO_TRANSACTION_GUARD_DAYS/);
    expect(() => loadConfig({ DYNAMO_TRANSACTION_GUARD_DAYS: 'forever' })).toThrow(/DYNAMO_TRANSACTION_GUARD_DAYS/);
  });
});
