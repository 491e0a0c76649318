import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { IngestWriter } from '../src/ingest/writer.js';
import { FLEET_EVENTS_CHANNEL } from '../src/events/wake-notifier.js';
import type { ChargerEvent } from '../src/ingest/events.js';
import { recoverExpiredNodes } from '../src/store/history/nodes.js';
import { migrate } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres.js';
import { applyBatch } from '../src/ingest/batch.js';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { eventually, history } from './support/history.js';
import { dbKind } from './support/database.js';

const at = (min: number) => new Date(Date.UTC(2026, 10, 2, 10, min));

/** The events a StopTransaction with transaction data becomes: samples, then the end. */
const aStopMessage = (cp: string, transactionId: string, wh: number, min: number): ChargerEvent[] => [
  {
    type: 'MeterSampled', cp, connectorId: null, transactionId, receivedAt: at(min),
    samples: [{ sampledAt: at(min), measurand: 'Energy.Active.Import.Register', phase: null, value: wh, unit: 'Wh', context: 'Transaction.End' }],
  },
  { type: 'SessionEnded', cp, transactionId, meterStopWh: wh, reason: 'Local', at: at(min), receivedAt: at(min) },
];

/** An event the database cannot take: a connector id beyond its integer column (the gateway refuses these; ingest must cope anyway). */
const aPoisonedMessage = (cp: string): ChargerEvent[] => [
  {
    type: 'StatusChanged', cp, connectorId: 3_000_000_000, evseId: null, status: 'Available', errorCode: 'NoError', info: null,
    vendorId: null, vendorErrorCode: null, chargerTime: null, at: at(1), receivedAt: at(1),
  },
];

/** A 2.x TransactionEvent Updated: its seqNo claim and the changes it guards. */
const aTransactionEventMessage = (cp: string, transactionId: string, seqNo: number, wh: number, min: number, copy = 1): ChargerEvent[] => {
  // Each copy of a message (a retransmission is another copy) claims its seqNo under its own key.
  const guard = { transactionId, seqNo, messageKey: `key-${transactionId}-${seqNo}-${copy}` };
  return [
    { type: 'TransactionSeq', cp, transactionId, seqNo, messageKey: guard.messageKey, at: at(min), receivedAt: at(min) },
    { type: 'SessionStarted', cp, connectorId: 1, idTag: null, meterStartWh: null, at: at(min), receivedAt: at(min), transactionId, provisional: true, guard },
    {
      type: 'MeterSampled', cp, connectorId: 1, transactionId, receivedAt: at(min), guard,
      samples: [{ sampledAt: at(min), measurand: 'Energy.Active.Import.Register', phase: null, value: wh, unit: 'Wh', context: null }],
    },
    { type: 'ChargingState', cp, transactionId, evseId: 1, chargingState: 'Charging', ended: false, at: at(min), receivedAt: at(min), guard },
  ];
};

describe(`ingest writer: one OCPP message is one commit (${dbKind})`, () => {
  let svc: TestService;
  let cp: string;
  let other: string;

  beforeAll(async () => {
    // Leases outlive the test, so the service's own lease keeper leaves the test's dead nodes to it.
    svc = await startTestService({ DYNAMO_LEASE_TTL: '3600' });
    const t = await aTenant(svc.url);
    const site = await aSite(t.api);
    cp = await aCharger(t.api, site);
    other = await aCharger(t.api, site);
  });
  afterAll(async () => svc?.close());

  const aWriter = (maxBatch: number) => {
    const metrics = new Registry();
    const writer = new IngestWriter(svc.service.db, pino({ level: 'silent' }), metrics, { lanes: 1, maxBatch });
    const retries = async () => (await metrics.getSingleMetric('dynamo_ingest_batch_retries_total')!.get()).values[0]?.value ?? 0;
    const transient = async () => (await metrics.getSingleMetric('dynamo_ingest_transient_retries_total')!.get()).values[0]?.value ?? 0;
    const batches = async () =>
      (await metrics.getSingleMetric('dynamo_ingest_batch_events')!.get()).values.find((v) => (v as { metricName?: string }).metricName === 'dynamo_ingest_batch_events_count')?.value ?? 0;
    return { writer, retries, transient, batches };
  };

  it('sends the batch statement prepared: parsed once per database connection, every batch after runs it', async () => {
    const note = (min: number): ChargerEvent[] => [{ type: 'Noted', cp, kind: 'Authorize', payload: { idTag: `TAG-${min}` }, at: at(min), receivedAt: at(min) }];
    // On PostgreSQL a connection of its own, to look at what that connection has prepared.
    const own = svc.env.DATABASE_URL ? await openPostgres({ url: svc.env.DATABASE_URL, poolSize: 1 }) : svc.service.db;
    try {
      for (const min of [40, 41, 42]) expect((await applyBatch(own, [note(min)])).results).toEqual([[{}]]);
      if (own.kind === 'postgres') {
        const prepared = await own.query<{ name: string }>(`SELECT name FROM pg_prepared_statements`);
        expect(prepared.map((p) => p.name)).toEqual(['dynamo_apply_batch']);
      }
    } finally {
      if (own !== svc.service.db) await own.close();
    }
  });

  it('a poisoned message in the batch is refused alone; the others land whole after one retry', async () => {
    const { writer, retries } = aWriter(500);
    const [start] = await writer.submit([
      { type: 'SessionStarted', cp, connectorId: 1, idTag: 'TAG', meterStartWh: 1000, at: at(0), receivedAt: at(0) },
    ]);
    const tx = start!.transactionId!;

    // Submitted in one turn of the event loop: one batch, the poisoned message in its middle.
    const stop = writer.submit(aStopMessage(cp, tx, 4000, 30));
    const poisoned = writer.submit(aPoisonedMessage(other));
    const txEvent = writer.submit(aTransactionEventMessage(other, 'TX-2X', 1, 2500, 10));
    await expect(poisoned).rejects.toThrow(/out of range/);
    expect(await stop).toEqual([{ unknownTransaction: false }, { unknownTransaction: false }]);
    expect((await txEvent)[0]).toEqual({ duplicate: false });
    expect(await retries()).toBe(1);

    const h = history(svc.service.db);
    const [session] = await h.sessions(cp);
    expect(session).toMatchObject({ meter_stop_wh: 4000, stop_reason: 'Local' });
    expect((await h.samples(cp)).map((s) => s.value)).toEqual([4000]);
    const [provisional] = await h.sessions(other);
    expect(provisional).toMatchObject({ transaction_id: 'TX-2X', last_meter_wh: 2500, charging_state: 'Charging' });
    expect((await h.samples(other)).map((s) => s.value)).toEqual([2500]);
    expect(await h.connectors(other)).toEqual([expect.objectContaining({ connector_id: 1, status: 'Charging' })]);

    // The charger's retry of the Updated is recognised as a duplicate and changes nothing more.
    const again = await writer.submit(aTransactionEventMessage(other, 'TX-2X', 1, 2500, 10, 2));
    expect(again[0]).toEqual({ duplicate: true });
    expect(again.slice(1).every((r) => (r as { skipped?: boolean }).skipped)).toBe(true);
    expect((await h.samples(other)).length).toBe(1);
  });

  it.skipIf(dbKind !== 'postgres')('a batch chosen as a deadlock victim is run again whole: no message refused, none applied twice', async () => {
    const { writer, retries, transient } = aWriter(500);
    const status = (id: string, value: string, min: number): ChargerEvent[] => [
      { type: 'StatusChanged', cp: id, connectorId: 1, evseId: null, status: value, errorCode: 'NoError', info: null, vendorId: null, vendorErrorCode: null, chargerTime: null, at: at(min), receivedAt: at(min) },
    ];
    await writer.submit(status(cp, 'Available', 60));
    await writer.submit(status(other, 'Available', 60));
    let applied: Promise<unknown> = Promise.resolve();
    // This transaction holds one charger's row (a status change locks it, dynamo_sync_charger_status)
    // and then asks for the other's, while a batch holds the second and waits for the first: a lock cycle. It waits longer than the batch before
    // checking for deadlocks, so PostgreSQL picks the batch as the victim.
    await svc.service.db.transaction(async (tx) => {
      await tx.query("SET LOCAL deadlock_timeout = '20s'");
      await tx.query('SELECT 1 FROM chargers WHERE charge_point_id = $1 FOR NO KEY UPDATE', [cp]);
      applied = Promise.all([writer.submit(status(other, 'Unavailable', 61)), writer.submit(status(cp, 'Unavailable', 61))]);
      await eventually(
        async () => (await svc.service.db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%dynamo_apply_batch%'"))[0]!.n,
        (n) => n === 1,
      );
      await tx.query('SELECT 1 FROM chargers WHERE charge_point_id = $1 FOR NO KEY UPDATE', [other]);
    });
    await expect(applied).resolves.toHaveLength(2);
    expect(await transient()).toBe(1);
    expect(await retries()).toBe(0);
    const h = history(svc.service.db);
    for (const id of [cp, other]) {
      const statuses = (await h.intervals(id, 1)).filter((i) => i.started_at >= at(60)).map((i) => i.status);
      expect(statuses).toEqual(['Available', 'Unavailable']);
    }
  });

  it('a batch whose text does not parse as a whole is sent again message by message: only the unparsable one is refused', async () => {
    const { writer } = aWriter(500);
    // A lone surrogate survives JSON.stringify as an escape that PostgreSQL's jsonb refuses (the gateway
    // refuses such text first; ingest must cope anyway): the one-text batch then names no message.
    const good = writer.submit([{ type: 'Noted', cp, kind: 'BatchFallbackProbe', payload: { n: 1 }, at: at(50), receivedAt: at(50) }]);
    const bad = writer.submit([{ type: 'Noted', cp: other, kind: 'BatchFallbackProbe', payload: { s: '\ud800' }, at: at(50), receivedAt: at(50) }]);
    const good2 = writer.submit([{ type: 'Noted', cp: other, kind: 'BatchFallbackProbe', payload: { n: 2 }, at: at(51), receivedAt: at(51) }]);
    await expect(bad).rejects.toThrow();
    await expect(good).resolves.toEqual([{}]);
    await expect(good2).resolves.toEqual([{}]);
    const h = history(svc.service.db);
    expect((await h.messages(cp, 'BatchFallbackProbe')).map((m) => m.payload)).toEqual([{ n: 1 }]);
    expect((await h.messages(other, 'BatchFallbackProbe')).map((m) => m.payload)).toEqual([{ n: 2 }]);
  });

  it.skipIf(dbKind !== 'postgres')('a batch that writes fleet events sends no NOTIFY from inside its transaction: the writer reports how many it wrote, after the commit', async () => {
    const { writer } = aWriter(500);
    const db = svc.service.db;
    let notified = 0;
    const unlisten = await db.listen!(FLEET_EVENTS_CHANNEL, () => notified++);
    // A listener is called once as it starts listening (what was notified before is read then).
    const atStart = notified;
    const written: number[] = [];
    writer.onCommit((n) => written.push(n));
    try {
      await writer.submit([
        { type: 'StatusChanged', cp, connectorId: 2, evseId: null, status: 'Preparing', errorCode: 'NoError', info: null, vendorId: null, vendorErrorCode: null, chargerTime: null, at: at(200), receivedAt: at(200) },
      ]);
      await writer.submit([
        { type: 'MeterSampled', cp, connectorId: 2, transactionId: null, receivedAt: at(201), samples: [{ sampledAt: at(201), measurand: 'Power.Active.Import', phase: null, value: 0, unit: 'W', context: null }] },
      ]);
      expect(written).toHaveLength(2);
      expect(written[0]).toBeGreaterThan(0);
      expect(written[1]).toBe(0);
      // A NOTIFY arrives within milliseconds of its commit: half a second of silence means none was sent.
      await new Promise((r) => setTimeout(r, 500));
      expect(notified - atStart).toBe(0);
      // Any other transaction that writes an event still wakes every node at its commit.
      await db.query(`SELECT dynamo_emit($1, 'connector.status_changed', '{}'::jsonb)`, [cp]);
      await eventually(async () => notified - atStart, (n) => n === 1);
    } finally {
      await unlisten();
    }
  });

  it('never cuts a message at the batch size: a 4-event message with maxBatch 3 commits whole, in its own batch', async () => {
    const { writer, batches } = aWriter(3);
    const first = writer.submit(aTransactionEventMessage(cp, 'TX-BIG', 1, 100, 40));
    const second = writer.submit(aTransactionEventMessage(cp, 'TX-BIG', 2, 200, 41));
    const [a, b] = await Promise.all([first, second]);
    expect(a).toHaveLength(4);
    expect(b).toHaveLength(4);
    expect([a[0], b[0]]).toEqual([{ duplicate: false }, { duplicate: false }]);
    // Two messages of four events with room for three: two batches, neither split.
    expect(await batches()).toBe(2);
    const h = history(svc.service.db);
    const session = (await h.sessions(cp)).find((s) => s.transaction_id === 'TX-BIG');
    expect(session).toMatchObject({ last_meter_wh: 200, charging_state: 'Charging' });
  });

  it('crash recovery runs in one transaction: a failure part-way leaves every dead node to the next attempt', async () => {
    const db = svc.service.db;
    const { writer } = aWriter(500);
    await db.query(`INSERT INTO nodes (node_id, hostname, started_at, lease_at) VALUES
      ('node_dead_a', 'a', now() - interval '1 hour', now() - interval '10 minutes'),
      ('node_dead_b', 'b', now() - interval '1 hour', now() - interval '10 minutes')`);
    const [[a], [b]] = await Promise.all([
      writer.submit([{ type: 'Connected', cp, at: at(50), nodeId: 'node_dead_a', ocppVersion: '1.6', remoteAddress: null }]),
      writer.submit([{ type: 'Connected', cp: other, at: at(50), nodeId: 'node_dead_b', ocppVersion: '1.6', remoteAddress: null }]),
    ]);
    // The database refuses to close node b's connection once.
    await db.query(`CREATE FUNCTION test_refuse_node_b() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.node_id = 'node_dead_b' AND NEW.disconnected_at IS NOT NULL THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`);
    await db.query('CREATE TRIGGER test_refuse_node_b BEFORE UPDATE ON connections FOR EACH ROW EXECUTE FUNCTION test_refuse_node_b()');
    await expect(recoverExpiredNodes(db, 'node_self', 60)).rejects.toThrow(/refused/);
    const stopped = await db.query<{ node_id: string }>("SELECT node_id FROM nodes WHERE node_id LIKE 'node_dead_%' AND stopped_at IS NOT NULL");
    expect(stopped).toEqual([]);

    await db.query('DROP TRIGGER test_refuse_node_b ON connections');
    const r = await recoverExpiredNodes(db, 'node_self', 60);
    expect(r.nodes.sort()).toEqual(['node_dead_a', 'node_dead_b']);
    const open = await db.query('SELECT 1 FROM connections WHERE connection_id = ANY($1::bigint[]) AND disconnected_at IS NULL', [[a!.connectionId, b!.connectionId]]);
    expect(open).toEqual([]);
  });

  it('an older build cannot replace newer database functions: migrate refuses', async () => {
    const db = svc.service.db;
    await db.query("UPDATE schema_functions SET version = version + 1 WHERE file = 'ingest.sql'");
    await expect(migrate(db)).rejects.toThrow(/database functions ingest\.sql are at version \d+ but this build has version \d+/);
    await db.query("UPDATE schema_functions SET version = version - 1 WHERE file = 'ingest.sql'");
    await expect(migrate(db)).resolves.toMatchObject({ applied: [] });
  });
});
