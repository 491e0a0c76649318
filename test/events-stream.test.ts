import { afterAll, describe, expect, it } from 'vitest';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { ocppTestbed } from './support/ocpp-testbed.js';
import { openSse } from './support/sse.js';
import { dbKind } from './support/database.js';
import { ADMIN_KEY } from './support/service.js';
import { apiClient } from './support/http.js';
import { eventually } from './support/history.js';
import { statusNotification as status } from './support/ocpp16-payloads.js';
import { RetentionKeeper } from '../src/store/retention-keeper.js';
import { pruneFleetEvents } from '../src/store/fleet-events.js';
import { readFleetEvents } from '../src/store/fleet-events.js';
import { createLogger } from '../src/logger.js';
import type { Queryable } from '../src/store/db.js';

const now = () => new Date().toISOString();

describe(`the durable event log and its live stream (${dbKind})`, () => {
  const bed = ocppTestbed({ DYNAMO_SSE_HEARTBEAT: '1', DYNAMO_EVENTS_POLL_MS: '200', DYNAMO_SSE_KEY_CHECK: '1' });
  const streams: { close(): Promise<void> }[] = [];
  const open = async (query = '', key = bed.t.key, headers: Record<string, string> = {}) => {
    const s = await openSse(`${bed.svc.url}/api/v1/cpo/events${query}`, key, headers);
    streams.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
  });
  const apiStatus = async (id: string) => {
    const r = await bed.t.api('GET', '/api/v1/cpo/fleet/chargers?limit=1000');
    return r.body.chargers.find((x: { charge_point_id: string }) => x.charge_point_id === id)?.status;
  };
  const lastStatusEvent = (s: { messages: { event?: string; data: any }[] }) =>
    s.messages.filter((m) => m.event === 'charge_point.status_changed').at(-1)?.data.data.status;

  it('tells a charger\'s life in order, each change with the status the fleet API shows', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const s = await open(`?charge_point_id=${id}`);
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const c = await bed.connect(id);
    await c.call('BootNotification', { chargePointVendor: 'ABB', chargePointModel: 'Terra AC' });
    await c.call('StatusNotification', status(1, 'Available'));
    await s.waitFor((m) => m.event === 'charge_point.status_changed' && m.data.data.status === 'Available');
    // After each step, the last status told is the status the fleet API shows.
    const agree = async () => {
      const api = await eventually(async () => [lastStatusEvent(s), await apiStatus(id)], ([a, b]) => a === b, 5_000);
      expect(api[0]).toBe(api[1]);
    };
    await agree();
    const { transactionId } = await c.call('StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 1000, timestamp: now() });
    await c.call('StatusNotification', status(1, 'Charging'));
    await agree();
    await c.call('StopTransaction', { transactionId, meterStop: 8500, timestamp: now(), reason: 'Local' });
    await agree();
    await c.call('StatusNotification', status(1, 'Faulted', 'GroundFailure'));
    await agree();
    await c.call('StatusNotification', status(1, 'Available'));
    await agree();
    await c.close({ code: 1000 });

    const last = await s.waitFor((m) => m.event === 'charge_point.disconnected');
    const names = s.messages.map((m) => m.event);
    expect(names).toEqual([
      'charge_point.connected',
      'charge_point.status_changed', // Offline → Unavailable: online, no connector reported yet
      'connector.status_changed',
      'charge_point.status_changed', // → Available
      'session.started',
      'charge_point.status_changed', // → Charging
      'connector.status_changed',
      'session.ended',
      'charge_point.status_changed', // → Unavailable (session over, connector still Charging)
      'connector.status_changed',
      'charge_point.fault',
      'charge_point.status_changed', // → Faulted
      'connector.status_changed',
      'charge_point.fault_resolved',
      'charge_point.status_changed', // → Available
      'charge_point.disconnected',
      'charge_point.status_changed', // → Offline
    ].slice(0, names.length));
    expect(names.at(-1)).toBe('charge_point.status_changed');
    expect(last.data).toMatchObject({ event: 'charge_point.disconnected', tenant_id: bed.t.tenantId, data: { charge_point_id: id, site_id: bed.site, reason: 'closed_by_charger' } });

    // The envelope, ids strictly increasing, times in the API's one format.
    for (const m of s.messages) {
      expect(Object.keys(m.data).sort()).toEqual(['created_at', 'data', 'event', 'id', 'tenant_id']);
      expect(m.id).toBe(m.data.id);
      expect(m.data.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    const ids = s.messages.map((m) => BigInt(m.id!));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(ids).size).toBe(ids.length);

    const ended = s.messages.find((m) => m.event === 'session.ended')!;
    expect(ended.data.data).toMatchObject({ connector_id: 1, transaction_id: String(transactionId), energy_kwh: 7.5, stop_reason: 'Local', id_tag: 'TAG-1' });
    // The same session through the sessions API: the same energy.
    const session = await bed.t.api('GET', `/api/v1/cpo/sessions/${ended.data.data.session_id}`);
    expect(session.body).toMatchObject({ energy_kwh: 7.5, transaction_id: String(transactionId), status: 'completed' });
    const fault = s.messages.find((m) => m.event === 'charge_point.fault')!;
    expect(fault.data.data).toMatchObject({ connector_id: 1, error_code: 'GroundFailure', status: 'Faulted', resolved_at: null });
    const statuses = s.messages.filter((m) => m.event === 'charge_point.status_changed').map((m) => m.data.data.status);
    // After the session and before the next report the connector still says Charging: no connector can take a driver.
    expect(statuses).toEqual(['Unavailable', 'Available', 'Charging', 'Unavailable', 'Faulted', 'Available', 'Offline']);
    await agree();
  });

  it('resumes exactly after Last-Event-ID: the events missed while away, none twice', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const first = await open(`?charge_point_id=${id}&event=connector.status_changed`);
    const c = await bed.connect(id);
    await c.call('StatusNotification', status(1, 'Available'));
    await c.call('StatusNotification', status(2, 'Available'));
    await first.waitFor((m) => m.data.data.connector_id === 2);
    const seen = first.messages.at(-1)!.id!;
    await first.close();

    // Away: three changes happen; then the client comes back with the id it saw last.
    await c.call('StatusNotification', status(1, 'Preparing'));
    await c.call('StatusNotification', status(2, 'Preparing'));
    await c.call('StatusNotification', status(1, 'Available'));
    const back = await open(`?charge_point_id=${id}&event=connector.status_changed`, bed.t.key, { 'last-event-id': seen });
    await back.waitFor((m) => m.data.data.connector_id === 1 && m.data.data.status === 'Available' && BigInt(m.id!) > BigInt(seen));
    await c.call('StatusNotification', status(2, 'Faulted', 'OtherError'));
    await back.waitFor((m) => m.data.data.status === 'Faulted');
    expect(back.messages.map((m) => [m.data.data.connector_id, m.data.data.status])).toEqual([
      [1, 'Preparing'],
      [2, 'Preparing'],
      [1, 'Available'],
      [2, 'Faulted'],
    ]);
    // The query-string form, for clients that cannot set the header, reads the same log.
    const viaQuery = await open(`?charge_point_id=${id}&event=connector.status_changed&last_event_id=${seen}`);
    await viaQuery.waitFor((m) => m.data.data.status === 'Faulted');
    expect(viaQuery.messages.map((m) => m.id)).toEqual(back.messages.map((m) => m.id));
  });

  it('orders the log by id as a number: across a change in the number of digits nothing is skipped or reordered', async () => {
    const { db } = bed.svc.service;
    const cp = 'DIGITS-EDGE';
    // 9,999 and 10,001: as text "10001" sorts before "9999". Both are far below the read horizon.
    for (const id of [10_001, 9_999]) {
      await db.query(
        `INSERT INTO fleet_events (id, tenant_id, event, charge_point_id, site_id, data) VALUES ($1, $2, 'connector.status_changed', $3, $4, '{}')`,
        [id, bed.t.tenantId, cp, bed.site],
      );
    }
    const first = await readFleetEvents(db, { tenantId: bed.t.tenantId, after: '0', chargePointId: cp, limit: 1 });
    expect(first.map((e) => e.id)).toEqual(['9999']);
    const s = await open(`?charge_point_id=${cp}&last_event_id=0`);
    await s.waitFor((m) => m.id === '10001');
    expect(s.messages.map((m) => m.id)).toEqual(['9999', '10001']);
  });

  it('sends the envelope as JSON the database made: escaped text, created_at cut to the second, one line on the stream', async () => {
    const { db } = bed.svc.service;
    const cp = 'ENVELOPE-EDGE';
    const data = { charge_point_id: cp, note: 'quote " backslash \\ newline \n return \r tab \t line-sep \u2028 end', n: 7.5, nested: { ok: true, none: null } };
    await db.query(
      `INSERT INTO fleet_events (id, tenant_id, event, charge_point_id, site_id, created_at, data)
       VALUES (20001, $1, 'connector.status_changed', $2, $3, '2026-12-01T09:14:59.999999Z', $4::jsonb)`,
      [bed.t.tenantId, cp, bed.site, JSON.stringify(data)],
    );
    const [row] = await readFleetEvents(db, { tenantId: bed.t.tenantId, after: '0', chargePointId: cp, limit: 1 });
    expect(row!.envelope).not.toMatch(/[\r\n]/);
    const expected = { id: '20001', event: 'connector.status_changed', created_at: '2026-12-01T09:14:59Z', tenant_id: bed.t.tenantId, data };
    expect(JSON.parse(row!.envelope)).toStrictEqual(expected);
    const s = await open(`?charge_point_id=${cp}&last_event_id=0`);
    await s.waitFor((m) => m.id === '20001');
    expect(s.messages.find((m) => m.id === '20001')!.data).toStrictEqual(expected);
  });

  it('keeps tenants apart and filters by event and site', async () => {
    const other = await aTenant(bed.svc.url, 'Other CPO');
    const otherSite = await aSite(other.api);
    const theirs = await aCharger(other.api, otherSite);
    const secondSite = await aSite(bed.t.api, { name: 'Second' });
    const mineElsewhere = await aCharger(bed.t.api, secondSite);

    const everythingOfB = await open('', other.key);
    const siteOnly = await open(`?site_id=${secondSite}&event=charge_point.connected`);
    // Tenant B asking for tenant A's charger gets nothing of it.
    const spying = await open(`?charge_point_id=${mineElsewhere}`, other.key);

    await (await bed.connect(mineElsewhere)).call('StatusNotification', status(1, 'Available'));
    await (await bed.connect(theirs)).call('StatusNotification', status(1, 'Available'));

    await everythingOfB.waitFor((m) => m.event === 'connector.status_changed');
    await siteOnly.waitFor((m) => m.data.data.charge_point_id === mineElsewhere);
    // Tenant A's charger connected before tenant B's: once B's events arrived, A's would have too.
    expect(everythingOfB.messages.every((m) => m.data.tenant_id === other.tenantId && m.data.data.charge_point_id === theirs)).toBe(true);
    expect(siteOnly.messages.map((m) => [m.event, m.data.data.site_id])).toEqual([['charge_point.connected', secondSite]]);
    expect(spying.messages).toEqual([]);
  });

  it('refuses bad requests in the one error shape before streaming; needs the read:events scope', async () => {
    const badType = await bed.t.api('GET', '/api/v1/cpo/events?event=charge_point.exploded');
    expect(badType.status).toBe(400);
    expect(badType.body.error).toMatchObject({ code: 'invalid_parameter', parameter: 'event' });
    const badId = await bed.t.api('GET', '/api/v1/cpo/events', { headers: { 'last-event-id': 'evt_abc' } });
    expect(badId.status).toBe(400);
    expect(badId.body.error.parameter).toBe('Last-Event-ID');
    expect((await bed.t.api('GET', '/api/v1/cpo/events', { key: null })).status).toBe(401);
    const narrow = await aTenant(bed.svc.url, 'Narrow', ['read:charge_points']);
    const forbidden = await narrow.api('GET', '/api/v1/cpo/events');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('missing_scope');
  });

  it('closes the stream of a key revoked while it is open; the reconnect is refused, other keys stream on', async () => {
    const admin = apiClient(bed.svc.url, ADMIN_KEY);
    const doomed = await admin('POST', `/api/v1/admin/tenants/${bed.t.tenantId}/api-keys`, { body: { name: 'revoked while streaming' } });
    expect(doomed.status, JSON.stringify(doomed.body)).toBe(201);
    const s = await open('', doomed.body.key);
    const other = await open('');
    expect(s.status).toBe(200);
    expect((await admin('DELETE', `/api/v1/admin/tenants/${bed.t.tenantId}/api-keys/${doomed.body.key_id}`)).status).toBe(200);
    // Checked every second here (DYNAMO_SSE_KEY_CHECK=1).
    expect(await eventually(async () => s.ended, (e) => e, 5_000)).toBe(true);
    const again = await bed.t.api('GET', '/api/v1/cpo/events', { key: doomed.body.key });
    expect(again.status).toBe(401);
    // The tenant's other key keeps its stream, and it goes on receiving.
    const id = await aCharger(bed.t.api, bed.site);
    const created = await bed.t.api('POST', `/api/v1/cpo/chargers/${id}/maintenance`, {
      body: { type: 'scheduled', description: 'After the revocation', scheduled_at: '2026-11-30T08:00:00Z', technician: 'A. Tech' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await other.waitFor((m) => m.event === 'maintenance.created' && m.data.data.maintenance_id === created.body.event_id);
    expect(other.ended).toBe(false);
  });

  it('sends heartbeats on an idle stream so proxies keep it open', async () => {
    const s = await open('?event=alert.triggered');
    await eventually(async () => s.comments, (n) => n >= 2, 6_000);
    expect(s.messages).toEqual([]);
    expect(s.ended).toBe(false);
  });

  it('tells maintenance created and completed, in the transaction that records them', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const s = await open(`?charge_point_id=${id}`);
    const created = await bed.t.api('POST', `/api/v1/cpo/chargers/${id}/maintenance`, {
      body: { type: 'reactive', description: 'Replace contactor', scheduled_at: '2026-11-30T08:00:00Z', technician: 'A. Tech' },
    });
    expect(created.status).toBe(201);
    const patched = await bed.t.api('PATCH', `/api/v1/cpo/chargers/${id}/maintenance/${created.body.event_id}`, { body: { completed_at: '2026-11-30T10:30:00Z' } });
    expect(patched.status).toBe(200);
    // A second PATCH of the notes does not complete it again.
    await bed.t.api('PATCH', `/api/v1/cpo/chargers/${id}/maintenance/${created.body.event_id}`, { body: { notes: 'done' } });
    await s.waitFor((m) => m.event === 'maintenance.completed');
    await bed.t.api('PATCH', `/api/v1/cpo/chargers/${id}/maintenance/${created.body.event_id}`, { body: { notes: 'checked twice' } });
    const later = await open(`?charge_point_id=${id}`, bed.t.key, { 'last-event-id': '0' });
    await later.waitFor((m) => m.event === 'maintenance.completed');
    expect(later.messages.map((m) => m.event)).toEqual(['maintenance.created', 'maintenance.completed']);
    expect(later.messages[1]!.data.data).toMatchObject({
      maintenance_id: created.body.event_id, type: 'reactive', scheduled_at: '2026-11-30T08:00:00Z', completed_at: '2026-11-30T10:30:00Z',
    });
  });

  it('drops events past retention, oldest first, in small deletes', async () => {
    const { db } = bed.svc.service;
    const idsOf = async (where: string, params: unknown[] = []) =>
      (await db.query<{ id: string }>(`SELECT id::text AS id FROM fleet_events WHERE ${where} ORDER BY fleet_events.id`, params)).map((r) => r.id);
    const withEvents = async (statuses: string[]) => {
      const id = await aCharger(bed.t.api, bed.site);
      const c = await bed.connect(id);
      for (const s of statuses) await c.call('StatusNotification', status(1, s));
      await eventually(() => idsOf('charge_point_id = $1', [id]), (ids) => ids.length >= 2 + statuses.length);
      return id;
    };
    await withEvents(['Available', 'Preparing', 'Available', 'Preparing', 'Available', 'Preparing', 'Available']);
    const [{ last }] = (await db.query<{ last: string }>('SELECT max(id)::text AS last FROM fleet_events')) as [{ last: string }];
    const young = await withEvents(['Available']);
    // The log up to `last` is aged by 15 days (retention is 14); what came after stays young.
    await db.query(`UPDATE fleet_events SET created_at = created_at - interval '15 days' WHERE id <= $1`, [last]);
    const aged = await idsOf('id <= $1', [last]);
    const newer = await idsOf('id > $1', [last]);
    expect(newer.length).toBeGreaterThanOrEqual(3);
    expect(aged.length).toBeGreaterThan(2 * 4);

    // Every delete the pruner runs: how many it deleted, and which aged events were left after it.
    const CHUNK = 4;
    const rounds: { deleted: number; left: string[] }[] = [];
    const watched: Queryable = {
      async query<R>(sql: string, params?: readonly unknown[]) {
        const rows = await db.query<R>(sql, params);
        if (/DELETE FROM fleet_events/.test(sql)) rounds.push({ deleted: (rows[0] as { n: number }).n, left: await idsOf('id <= $1', [last]) });
        return rows;
      },
    };
    const deleted = await new RetentionKeeper(createLogger('silent'), { what: 'event log', retentionDays: 14, chunk: CHUNK, prune: (before, n) => pruneFleetEvents(watched, before, n) }).pruneNow();
    expect(deleted).toBe(aged.length);
    // Full deletes of CHUNK, then the one that found fewer and ended the run.
    const full = Math.floor(aged.length / CHUNK);
    expect(rounds.map((r) => r.deleted)).toEqual([...Array.from({ length: full }, () => CHUNK), aged.length % CHUNK]);
    // Oldest first: after each delete, exactly the oldest events are gone.
    rounds.forEach((r, k) => expect(r.left).toEqual(aged.slice(Math.min((k + 1) * CHUNK, aged.length))));
    // Nothing within retention was touched.
    expect(await idsOf('id > $1', [last])).toEqual(newer);
    expect((await idsOf('charge_point_id = $1', [young])).length).toBeGreaterThanOrEqual(3);
  });
});

describe(`the event feed with nobody listening (${dbKind})`, () => {
  const bed = ocppTestbed({ DYNAMO_EVENTS_POLL_MS: '100' });
  const eventsRead = async () => {
    const text = (await bed.t.api('GET', '/metrics')).body as string;
    return Number(/^dynamo_events_written_total (\d+)/m.exec(text)?.[1] ?? NaN);
  };

  it('moves its position without reading the events: a stream opened later starts after them, and the log keeps them', async () => {
    const id = await aCharger(bed.t.api, bed.site);
    const c = await bed.connect(id);
    await c.call('StatusNotification', status(1, 'Available'));
    await c.call('StatusNotification', status(1, 'Preparing'));
    // Events become readable once every older transaction on the server has ended (the read horizon),
    // and on a shared PostgreSQL another test file's transaction may still be running: wait for both.
    const statusEvents = (rows: { event: string }[]) => rows.filter((e) => e.event === 'connector.status_changed');
    const before = await eventually(
      () => readFleetEvents(bed.svc.service.db, { tenantId: bed.t.tenantId, chargePointId: id, after: '0', limit: 1000 }),
      (rows) => statusEvents(rows).length === 2,
    );
    expect(statusEvents(before)).toHaveLength(2);
    // Several polls pass with no listener: nothing is read (the counter counts what the feed reads).
    await new Promise((r) => setTimeout(r, 500));
    expect(await eventsRead()).toBe(0);

    const s = await openSse(`${bed.svc.url}/api/v1/cpo/events?charge_point_id=${id}&event=connector.status_changed`, bed.t.key);
    try {
      await c.call('StatusNotification', status(1, 'Charging'));
      await s.waitFor((m) => m.data.data.status === 'Charging');
      // Live from the moment it opened: none of what came before it, what came after once.
      expect(s.messages.map((m) => m.data.data.status)).toEqual(['Charging']);
      expect(BigInt(s.messages[0]!.id!)).toBeGreaterThan(BigInt(before.at(-1)!.id));
      expect(await eventsRead()).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
    // The log itself is whole: a client resuming from the start gets the events nobody listened to.
    const replay = await openSse(`${bed.svc.url}/api/v1/cpo/events?charge_point_id=${id}&event=connector.status_changed`, bed.t.key, { 'last-event-id': '0' });
    try {
      await replay.waitFor((m) => m.data.data.status === 'Charging');
      expect(replay.messages.map((m) => m.data.data.status)).toEqual(['Available', 'Preparing', 'Charging']);
    } finally {
      await replay.close();
    }
  });
});
