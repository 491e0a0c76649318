import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { startTestService, ADMIN_KEY, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { connectCharger, rawCharger, type ChargerClient } from './support/charger.js';
import { apiClient } from './support/http.js';
import { eventually } from './support/history.js';
import { sleep } from './support/sleep.js';
import { latch } from './support/latch.js';
import { dbKind } from './support/database.js';
import { MessageLogWriter } from '../src/ingest/message-log-writer.js';
import { IngestWriter } from '../src/ingest/writer.js';
import { CallIds, frameRow, type CapturedFrame } from '../src/ocpp/message-capture.js';
import type { Db } from '../src/store/db.js';

/** The raw OCPP message log (docs/api.md): every frame in and out, masked, paged, exported, retained by day. */
describe(`raw OCPP message log (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let other: TenantFixture;
  let site: string;
  const clients: ChargerClient[] = [];

  beforeAll(async () => {
    svc = await startTestService({ DYNAMO_OCPP_MAX_PAYLOAD: '2048' });
    t = await aTenant(svc.url);
    other = await aTenant(svc.url, 'Other');
    site = await aSite(t.api);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close({ force: true }).catch(() => undefined)));
    await svc?.close();
  });

  const connect = async (id: string, protocol = 'ocpp1.6') => {
    const c = await connectCharger(svc.wsUrl, id, { protocols: [protocol] });
    clients.push(c);
    return c;
  };
  /** Every logged frame of a charger, oldest first, through the API's pages. */
  const allMessages = async (id: string, query = '') => {
    const out: any[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await t.api('GET', `/api/v1/cpo/chargers/${id}/messages?limit=3${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      out.push(...r.body.messages);
      cursor = r.body.next_cursor;
    } while (cursor);
    return out.reverse();
  };
  const flushed = () => svc.service.messageLog!.flush();

  it('records every frame of a scripted exchange once, in order, with secrets masked', async () => {
    const id = await aCharger(t.api, site);
    const c = await connect(id);
    c.handle('ChangeConfiguration', async () => ({ status: 'Accepted' }));
    c.handle('GetConfiguration', async () => ({ configurationKey: [{ key: 'AuthorizationKey', readonly: false, value: 'the-old-secret-key' }, { key: 'HeartbeatInterval', readonly: false, value: '300' }] }));
    await c.call('BootNotification', { chargePointVendor: 'ABB', chargePointModel: 'Terra' });
    const change = await t.api('POST', `/api/v1/cpo/commands/${id}`, { body: { command: 'change_configuration', parameters: { key: 'AuthorizationKey', value: 'new-secret-0123456789' } } });
    expect(change.body.status).toBe('Accepted');
    expect(change.body.parameters.value).toBe('********');
    const get = await t.api('POST', `/api/v1/cpo/commands/${id}`, { body: { command: 'get_configuration' } });
    expect(get.body.response.configurationKey[0]).toEqual({ key: 'AuthorizationKey', readonly: false, value: '********' });
    await c.call('Heartbeat', {});
    await expect(c.call('StatusNotification', { connectorId: 1, status: 'Bogus', errorCode: 'NoError' })).rejects.toThrow();
    await flushed();

    const log = await allMessages(id);
    expect(log.map((m) => [m.direction, m.message_type, m.action]), JSON.stringify(log)).toEqual([
      ['in', 'CALL', 'BootNotification'],
      ['out', 'CALLRESULT', 'BootNotification'],
      ['out', 'CALL', 'ChangeConfiguration'],
      ['in', 'CALLRESULT', 'ChangeConfiguration'],
      ['out', 'CALL', 'GetConfiguration'],
      ['in', 'CALLRESULT', 'GetConfiguration'],
      ['in', 'CALL', 'Heartbeat'],
      ['out', 'CALLRESULT', 'Heartbeat'],
      ['in', 'CALL', 'StatusNotification'],
      ['out', 'CALLERROR', 'StatusNotification'],
    ]);
    expect(log[0].payload).toEqual({ chargePointVendor: 'ABB', chargePointModel: 'Terra' });
    expect(log[1].payload).toMatchObject({ status: 'Accepted', interval: expect.any(Number) });
    expect(log[2].payload).toEqual({ key: 'AuthorizationKey', value: '********' });
    expect(log[5].payload.configurationKey).toEqual([{ key: 'AuthorizationKey', readonly: false, value: '********' }, { key: 'HeartbeatInterval', readonly: false, value: '300' }]);
    expect(log[9].payload).toMatchObject({ error_code: expect.any(String), error_description: expect.any(String) });
    expect(log[0].message_id).toBe(log[1].message_id);
    expect(log[0].node_id).toBe(svc.service.nodeId);
    expect(log[0].timestamp_ms).toMatch(/\.\d{3}Z$/);
    // The secrets are nowhere in the database.
    const leaks = await svc.service.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM ocpp_messages WHERE payload::text LIKE '%secret%' OR raw LIKE '%secret%')::int
            + (SELECT count(*) FROM commands WHERE parameters::text LIKE '%secret%' OR response::text LIKE '%secret%')::int AS n`,
    );
    expect(leaks[0]!.n).toBe(0);
    // Filters.
    expect((await allMessages(id, '&action=Heartbeat')).map((m) => m.message_type)).toEqual(['CALL', 'CALLRESULT']);
    expect((await allMessages(id, '&direction=out')).every((m) => m.direction === 'out')).toBe(true);
  });

  it('masks OCPP 2.x BasicAuthPassword in SetVariables', async () => {
    const id = await aCharger(t.api, site);
    const c = await connect(id, 'ocpp2.0.1');
    c.handle('SetVariables', async ({ params }: any) => ({
      setVariableResult: params.setVariableData.map((v: any) => ({ attributeStatus: 'Accepted', component: v.component, variable: v.variable })),
    }));
    const r = await t.api('POST', `/api/v1/cpo/commands/${id}`, { body: { command: 'change_configuration', parameters: { key: 'SecurityCtrlr.BasicAuthPassword', value: 'a-secret-password-123' } } });
    expect(r.body.status).toBe('Accepted');
    await flushed();
    const [call] = await allMessages(id, '&direction=out');
    expect(call.payload.setVariableData[0]).toEqual({ component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' }, attributeValue: '********' });
  });

  it('records frames refused as malformed: not JSON, not a frame, over the size limit', async () => {
    const id = await aCharger(t.api, site);
    const raw = await rawCharger(`${svc.wsUrl}/${id}`);
    raw.send('this is not json');
    expect((await raw.next())[0]).toBe(4);
    raw.send('{"a":1}');
    expect((await raw.next())[0]).toBe(4);
    raw.send(JSON.stringify([2, 'big-1', 'DataTransfer', { vendorId: 'X', data: 'x'.repeat(4000) }]));
    expect((await raw.next()).slice(0, 2)).toEqual([4, 'big-1']);
    raw.ws.close();
    await flushed();
    const log = await allMessages(id);
    const malformed = log.filter((m) => m.message_type === 'MALFORMED');
    expect(malformed.map((m) => m.note)).toEqual(['not JSON', 'not an OCPP-J frame', expect.stringMatching(/exceeds the limit of 2048/)]);
    expect(malformed[0]).toMatchObject({ direction: 'in', raw: 'this is not json', payload: null });
    expect(log.filter((m) => m.message_type === 'CALLERROR' && m.direction === 'out')).toHaveLength(3);
  });

  it('pages newest first with no gaps or repeats while the charger keeps talking', async () => {
    const id = await aCharger(t.api, site);
    const c = await connect(id);
    for (let i = 0; i < 20; i++) await c.call('Heartbeat', {});
    await flushed();
    let talking = true;
    const chatter = (async () => {
      while (talking) await c.call('Heartbeat', {});
    })();
    const seen: string[] = [];
    let cursor: string | null = null;
    let first: string | undefined;
    do {
      const r: any = await t.api('GET', `/api/v1/cpo/chargers/${id}/messages?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      first ??= r.body.messages[0].id;
      seen.push(...r.body.messages.map((m: any) => m.id));
      cursor = r.body.next_cursor;
      await sleep(30);
    } while (cursor);
    talking = false;
    await chatter;
    expect(new Set(seen).size).toBe(seen.length);
    const ids = seen.map(BigInt);
    expect(ids.every((v, i) => i === 0 || v < ids[i - 1]!)).toBe(true);
    // Exactly the entries that existed up to the first page's newest, nothing skipped.
    const rows = await svc.service.db.query<{ seq: string }>('SELECT seq::text AS seq FROM ocpp_messages m WHERE charge_point_id = $1 AND m.seq <= $2 ORDER BY m.seq DESC', [id, first]);
    expect(seen).toEqual(rows.map((r) => r.seq));
    expect(seen.length).toBeGreaterThanOrEqual(40);
  });

  it('exports the same query as NDJSON', async () => {
    const id = await aCharger(t.api, site);
    const c = await connect(id);
    for (let i = 0; i < 5; i++) await c.call('Heartbeat', {});
    await flushed();
    const res = await fetch(`${svc.url}/api/v1/cpo/chargers/${id}/messages/export?action=Heartbeat`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(10);
    expect(lines.map((l) => l.message_type)).toEqual(Array.from({ length: 5 }, () => ['CALLRESULT', 'CALL']).flat());
    expect(lines[0].timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('is per tenant: off means not written, another tenant gets 404, the scope is needed', async () => {
    const id = await aCharger(t.api, site);
    const admin = apiClient(svc.url, ADMIN_KEY);
    const off = await admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}`, { body: { message_log: false } });
    expect(off.body.message_log).toBe(false);
    const c = await connect(id);
    await c.call('Heartbeat', {});
    await flushed();
    expect(await allMessages(id)).toEqual([]);
    await admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}`, { body: { message_log: true } });
    await c.call('Heartbeat', {});
    await flushed();
    expect((await allMessages(id)).map((m) => m.message_type)).toEqual(['CALL', 'CALLRESULT']);
    expect((await other.api('GET', `/api/v1/cpo/chargers/${id}/messages`)).status).toBe(404);
    expect((await other.api('GET', `/api/v1/cpo/chargers/${id}/messages/export`)).status).toBe(404);
    const noScope = await aTenant(svc.url, 'NS', ['read:charge_points']);
    expect((await noScope.api('GET', `/api/v1/cpo/chargers/${id}/messages`)).status).toBe(403);
    expect((await t.api('GET', `/api/v1/cpo/chargers/${id}/messages?cursor=nonsense`)).status).toBe(400);
    // Deleting the charger deletes its log.
    await c.close();
    expect((await t.api('DELETE', `/api/v1/cpo/chargers/${id}`)).status).toBe(204);
    const left = await svc.service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ocpp_messages WHERE charge_point_id = $1', [id]);
    expect(left[0]!.n).toBe(0);
  });

  it('drops whole day partitions past retention', async () => {
    const db = svc.service.db;
    await db.query(`SELECT dynamo_message_log_partition('2020-01-01')`);
    await db.query(
      `INSERT INTO ocpp_messages (at, tenant_id, charge_point_id, node_id, direction, message_type) VALUES ('2020-01-01T12:00:00Z', $1, 'OLD-1', 'n', 'in', 'CALL')`,
      [t.tenantId],
    );
    const partitions = async () =>
      (await db.query<{ relname: string }>(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'ocpp_messages' ORDER BY 1`)).map((r) => r.relname);
    expect(await partitions()).toContain('ocpp_messages_p20200101');
    const dropped = await svc.service.messageLog!.maintain();
    expect(dropped).toContain('ocpp_messages_p20200101');
    const left = await partitions();
    expect(left).not.toContain('ocpp_messages_p20200101');
    const today = `ocpp_messages_p${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
    expect(left).toContain(today);
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ocpp_messages WHERE charge_point_id = 'OLD-1'`))[0]!.n).toBe(0);
    // Past retention today's partition goes too, and the next write makes it again.
    const later = await svc.service.messageLog!.maintain(new Date(Date.now() + 10 * 86_400_000));
    expect(later).toContain(today);
    const id = await aCharger(t.api, site);
    const c = await connect(id);
    await c.call('Heartbeat', {});
    await flushed();
    await eventually(() => allMessages(id), (m) => m.length === 2);
  });

  /** A log writer of its own over `db`; by default it writes only when flushed or closed. */
  const aWriter = (db: Db, o: { metrics?: Registry; flushIntervalMs?: number; waitTurn?: () => Promise<void> } = {}) =>
    new MessageLogWriter<CapturedFrame>(db, frameRow, pino({ level: 'silent' }), o.metrics ?? new Registry(), {
      nodeId: 'test', maxBuffered: 100, maxBatch: 50, flushIntervalMs: o.flushIntervalMs ?? 60_000, retentionDays: 7, maintenanceIntervalMs: 3_600_000,
      waitTurn: o.waitTurn,
    });
  const heldCalls = new CallIds();
  const heartbeatFrame = (cp: string, i: number): CapturedFrame => ({
    at: Date.now(), tenantId: t.tenantId, chargePointId: cp, outbound: false, text: JSON.stringify([2, `h${i}`, 'Heartbeat', {}]), calls: heldCalls,
  });
  const logCount = async (cp: string) =>
    (await svc.service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ocpp_messages WHERE charge_point_id = $1', [cp]))[0]!.n;

  it('sheds and counts when the database falls behind, without delaying OCPP answers', async () => {
    // A writer over the real database whose inserts are held back, as an overloaded database would.
    const held = latch();
    const writing = latch();
    const real = svc.service.db;
    const slow: Db = {
      ...real, kind: real.kind, query: real.query.bind(real), exec: real.exec.bind(real), close: async () => {},
      transaction: async (fn) => {
        writing.open();
        await held.opened;
        return real.transaction(fn);
      },
    };
    const shedder = await aCharger(t.api, site);
    const metrics = new Registry();
    const writer = aWriter(slow, { metrics, flushIntervalMs: 10 });
    const metric = async (name: string) => (await metrics.getSingleMetric(name)!.get()).values.reduce((n, v) => n + v.value, 0);
    // A full batch goes to the database, which does not answer.
    for (let i = 0; i < 50; i++) writer.push(heartbeatFrame(shedder, i));
    await writing.opened;
    // Capturing a frame is a plain call that returns at once, nothing to wait for, whatever the
    // database does: every push below completes while the insert before them is still held.
    const returned = Array.from({ length: 950 }, (_, i) => writer.push(heartbeatFrame(shedder, 50 + i)));
    expect(returned.every((r) => r === undefined)).toBe(true);
    // One batch in flight and a full buffer are kept; the rest is shed.
    const dropped = await metric('dynamo_message_log_shed_total');
    expect(dropped).toBe(1000 - 50 - 100);
    expect(await metric('dynamo_message_log_buffered')).toBe(100);
    expect(await metric('dynamo_message_log_written_total')).toBe(0);
    held.open();
    await writer.close();
    expect(await logCount(shedder)).toBe(1000 - dropped);
    // The service's own counter is exported.
    const text = (await t.api('GET', '/metrics')).body as string;
    expect(text).toContain('dynamo_message_log_shed_total');
  });

  it('takes turns with ingest when told to: nothing written while an ingest commit is under way, every frame after it', async () => {
    // An ingest writer whose commit the database holds, as a long commit on PGlite's one connection would.
    const real = svc.service.db;
    const held = latch();
    const committing = latch();
    const slow: Db = {
      ...real, kind: real.kind, transaction: real.transaction.bind(real), exec: real.exec.bind(real), close: async () => {},
      query: async (sql, params, options) => {
        committing.open();
        await held.opened;
        return real.query(sql, params, options);
      },
    };
    const ingest = new IngestWriter(slow, pino({ level: 'silent' }), new Registry(), { lanes: 1, maxBatch: 500 });
    const id = await aCharger(t.api, site);
    const now = new Date();
    const answered = ingest.submit([{ type: 'Noted', cp: id, kind: 'Authorize', payload: { idTag: 'T1' }, at: now, receivedAt: now }]);
    await committing.opened;
    const writer = aWriter(real, { waitTurn: () => ingest.whenIdle() });
    for (let i = 0; i < 80; i++) writer.push(heartbeatFrame(id, i));
    const written = writer.flush();
    await sleep(300);
    expect(await logCount(id)).toBe(0);
    held.open();
    await answered;
    await written;
    expect(await logCount(id)).toBe(80);
    await Promise.all([writer.close(), ingest.close()]);
  });

  it('drops the frames still buffered for a charger deleted meanwhile, and writes those of others', async () => {
    const gone = await aCharger(t.api, site);
    const kept = await aCharger(t.api, site);
    const writer = aWriter(svc.service.db);
    for (let i = 0; i < 3; i++) {
      writer.push(heartbeatFrame(gone, i));
      writer.push(heartbeatFrame(kept, i));
    }
    expect((await t.api('DELETE', `/api/v1/cpo/chargers/${gone}`)).status).toBe(204);
    await writer.close();
    expect(await logCount(gone)).toBe(0);
    expect(await logCount(kept)).toBe(3);
  });

  it('does not write buffered frames of a deleted charger under an identity registered again by another tenant', async () => {
    const id = await aCharger(t.api, site);
    const writer = aWriter(svc.service.db);
    for (let i = 0; i < 3; i++) writer.push(heartbeatFrame(id, i));
    expect((await t.api('DELETE', `/api/v1/cpo/chargers/${id}`)).status).toBe(204);
    expect((await other.api('POST', '/api/v1/cpo/chargers', { body: { site_id: await aSite(other.api), charge_point_id: id } })).status).toBe(201);
    await writer.close();
    expect(await logCount(id)).toBe(0);
  });

  it.skipIf(dbKind !== 'postgres')('a charger deleted while a log insert of its frames is under way: the insert is waited for and its rows deleted', async () => {
    const id = await aCharger(t.api, site);
    const real = svc.service.db;
    // The writer's transaction has inserted and is held before its commit.
    const held = latch();
    const inserted = latch();
    const paused: Db = {
      ...real, kind: real.kind, query: real.query.bind(real), exec: real.exec.bind(real), close: async () => {},
      transaction: (fn) => real.transaction(async (tx) => {
        const r = await fn(tx);
        inserted.open();
        await held.opened;
        return r;
      }),
    };
    const writer = aWriter(paused);
    for (let i = 0; i < 3; i++) writer.push(heartbeatFrame(id, i));
    const flushing = writer.flush();
    await inserted.opened;
    const deleted = t.api('DELETE', `/api/v1/cpo/chargers/${id}`);
    // The delete has committed and now waits for the insert, which saw the charger.
    await eventually(
      async () => (await real.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'"))[0]!.n,
      (n) => n === 1,
    );
    held.open();
    expect((await deleted).status).toBe(204);
    await flushing;
    await writer.close();
    expect(await logCount(id)).toBe(0);
  });
});
