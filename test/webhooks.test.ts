import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCharger, aTenant, type TenantFixture } from './support/builders.js';
import { ocppTestbed } from './support/ocpp-testbed.js';
import { startTestService, type TestService } from './support/service.js';
import { dbKind } from './support/database.js';
import { connectorEventIds, eventually } from './support/history.js';
import { statusNotification as status } from './support/ocpp16-payloads.js';
import { sleep } from './support/sleep.js';
import { aReceiver, dynamoSignatureValid, standardSignatureValid, type Receiver } from './support/webhook-receiver.js';
import type { ChargerClient } from './support/charger.js';

const CONNECTOR_EVENTS = ['connector.status_changed'];
const RETRY_BASE_MS = 200;

describe(`webhooks (${dbKind})`, () => {
  // The flags the tests set: local receivers are plain http on loopback. Fast retries and a 1 s
  // timeout keep the file quick; the sustained-failure window stays long here (see webhooks-durability).
  const bed = ocppTestbed({
    DYNAMO_WEBHOOKS_ALLOW_HTTP: 'true',
    DYNAMO_WEBHOOKS_ALLOW_PRIVATE: 'true',
    DYNAMO_WEBHOOKS_TIMEOUT: '1',
    DYNAMO_WEBHOOKS_RETRY_BASE_MS: String(RETRY_BASE_MS),
    DYNAMO_EVENTS_POLL_MS: '200',
  });
  const receivers: Receiver[] = [];
  const receiver = async (...a: Parameters<typeof aReceiver>) => {
    const r = await aReceiver(...a);
    receivers.push(r);
    return r;
  };
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
  });
  const create = async (body: Record<string, unknown>, t: TenantFixture = bed.t) => {
    const r = await t.api('POST', '/api/v1/webhooks/endpoints', { body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: string; secret: string; url: string; events: string[]; status: string };
  };
  /** A charger of the tenant, connected, whose connector 1 then changes status `n` times. */
  const chargerWithChanges = async (n: number): Promise<{ id: string; c: ChargerClient; flip: (k: number) => Promise<void> }> => {
    const id = await aCharger(bed.t.api, bed.site);
    const c = await bed.connect(id);
    let i = 0;
    const flip = async (k: number) => {
      for (let j = 0; j < k; j++) await c.call('StatusNotification', status(1, i++ % 2 === 0 ? 'Available' : 'Preparing'));
    };
    await flip(n);
    return { id, c, flip };
  };
  /** The connector events of a charger in the log, in order: what an endpoint must receive. */
  const logged = (chargePointId: string) => connectorEventIds(bed.svc.service.db, chargePointId);
  const deliveries = async (endpointId: string, query = '') =>
    (await bed.t.api('GET', `/api/v1/webhooks/endpoints/${endpointId}/deliveries${query}`)).body;
  const ofCharger = (r: Receiver, id: string) => r.received.filter((x) => x.json?.data?.charge_point_id === id);

  it('creates, lists, gets, changes and deletes endpoints; the secret is shown once', async () => {
    const created = await create({ url: 'http://127.0.0.1:9/a', events: ['*'], description: 'ops alerts' });
    expect(created).toMatchObject({ url: 'http://127.0.0.1:9/a', events: ['*'], status: 'active', enabled: true, description: 'ops alerts' });
    expect(created.id).toMatch(/^whe_[0-9A-Z]{26}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect((created as any).created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const got = await bed.t.api('GET', `/api/v1/webhooks/endpoints/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(created.secret.slice(6));
    const list = await bed.t.api('GET', '/api/v1/webhooks/endpoints?limit=1000');
    expect(list.body.endpoints.map((e: any) => e.id)).toContain(created.id);
    expect(list.body.total).toBe(list.body.endpoints.length);
    expect(JSON.stringify(list.body)).not.toContain(created.secret.slice(6));

    const patched = await bed.t.api('PATCH', `/api/v1/webhooks/endpoints/${created.id}`, {
      body: { events: ['session.started', 'session.ended'], description: null, enabled: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events: ['session.started', 'session.ended'], description: null, status: 'paused', enabled: false });
    const resumed = await bed.t.api('PATCH', `/api/v1/webhooks/endpoints/${created.id}`, { body: { enabled: true } });
    expect(resumed.body).toMatchObject({ status: 'active', enabled: true });

    expect((await bed.t.api('DELETE', `/api/v1/webhooks/endpoints/${created.id}`)).status).toBe(204);
    expect((await bed.t.api('GET', `/api/v1/webhooks/endpoints/${created.id}`)).status).toBe(404);
    expect((await bed.t.api('DELETE', `/api/v1/webhooks/endpoints/${created.id}`)).status).toBe(404);
  });

  it('refuses bad input with a clear 400 and stores nothing', async () => {
    const before = (await bed.t.api('GET', '/api/v1/webhooks/endpoints')).body.total;
    const bad: [Record<string, unknown>, string, string][] = [
      [{ url: 'http://127.0.0.1:9/', events: ['charger.exploded'] }, 'events', 'invalid_parameter'],
      [{ url: 'http://127.0.0.1:9/', events: ['*', 'session.ended'] }, 'events', 'invalid_parameter'],
      [{ url: 'http://127.0.0.1:9/', events: [] }, 'events', 'invalid_parameter'],
      [{ url: 'http://127.0.0.1:9/', events: ['*'], secret: 'hunter2' }, 'secret', 'invalid_parameter'],
      [{ url: 'http://127.0.0.1:9/', events: ['*'], secret: 'whsec_c2hvcnQ=' }, 'secret', 'invalid_parameter'],
      [{ url: 'not a url', events: ['*'] }, 'url', 'invalid_parameter'],
      [{ url: 'ftp://127.0.0.1/', events: ['*'] }, 'url', 'webhook_url_scheme'],
      [{ url: 'http://user:pw@127.0.0.1:9/', events: ['*'] }, 'url', 'webhook_url_credentials'],
      [{ url: 'http://no-such-host.invalid/', events: ['*'] }, 'url', 'webhook_target_unresolvable'],
      [{ events: ['*'] }, 'url', 'invalid_parameter'],
      [{ url: 'http://127.0.0.1:9/', events: ['*'], colour: 'red' }, 'colour', 'invalid_parameter'],
    ];
    for (const [body, parameter, code] of bad) {
      const r = await bed.t.api('POST', '/api/v1/webhooks/endpoints', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error, JSON.stringify(body)).toMatchObject({ parameter, code });
    }
    const e = await create({ url: 'http://127.0.0.1:9/', events: ['*'] });
    const patch = await bed.t.api('PATCH', `/api/v1/webhooks/endpoints/${e.id}`, { body: { url: 'gopher://x' } });
    expect(patch.status).toBe(400);
    expect((await bed.t.api('PATCH', `/api/v1/webhooks/endpoints/${e.id}`, { body: {} })).status).toBe(400);
    expect((await bed.t.api('GET', `/api/v1/webhooks/endpoints/${e.id}`)).body.url).toBe('http://127.0.0.1:9/');
    expect((await bed.t.api('GET', '/api/v1/webhooks/endpoints')).body.total).toBe(before + 1);
    await bed.t.api('DELETE', `/api/v1/webhooks/endpoints/${e.id}`);
  });

  it("keeps tenants apart (another tenant's endpoint is 404) and needs the write:webhooks scope", async () => {
    const mine = await create({ url: 'http://127.0.0.1:9/', events: ['*'] });
    const other = await aTenant(bed.svc.url, 'Other CPO');
    for (const [method, path, body] of [
      ['GET', '', undefined],
      ['PATCH', '', { enabled: false }],
      ['DELETE', '', undefined],
      ['GET', '/deliveries', undefined],
      ['POST', '/test', undefined],
    ] as const) {
      const r = await other.api(method, `/api/v1/webhooks/endpoints/${mine.id}${path}`, body ? { body } : {});
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    expect((await other.api('GET', '/api/v1/webhooks/endpoints')).body.total).toBe(0);
    expect((await bed.t.api('GET', `/api/v1/webhooks/endpoints/${mine.id}`)).body.status).toBe('active');

    const readOnly = await aTenant(bed.svc.url, 'Read-only CPO', ['read:charge_points']);
    const refused = await readOnly.api('POST', '/api/v1/webhooks/endpoints', { body: { url: 'http://127.0.0.1:9/', events: ['*'] } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('missing_scope');
    expect((await readOnly.api('GET', '/api/v1/webhooks/endpoints')).status).toBe(403);
    await bed.t.api('DELETE', `/api/v1/webhooks/endpoints/${mine.id}`);
  });

  it('delivers the envelope, signed twice (X-Dynamo-Signature and Standard Webhooks), each verifiable by a receiver', async () => {
    const r = await receiver();
    const given = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const generated = await create({ url: r.url, events: CONNECTOR_EVENTS });
    const chosen = await create({ url: r.url.replace('/hooks', '/chosen'), events: CONNECTOR_EVENTS, secret: given });
    expect(chosen.secret).toBe(given);
    const { id } = await chargerWithChanges(2);
    await r.waitFor(() => ofCharger(r, id).length >= 4);
    const ids = await logged(id);
    expect(ids).toHaveLength(2);
    for (const x of ofCharger(r, id)) {
      expect(x.headers['user-agent']).toMatch(/^Dynamo-Webhooks\//);
      expect(x.headers['content-type']).toBe('application/json');
      expect(Object.keys(x.json).sort()).toEqual(['created_at', 'data', 'event', 'id', 'tenant_id']);
      expect(x.json).toMatchObject({ event: 'connector.status_changed', tenant_id: bed.t.tenantId, data: { charge_point_id: id, site_id: bed.site, connector_id: 1 } });
      expect(x.json.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(x.headers['webhook-id']).toBe(x.json.id);
      expect(ids).toContain(x.json.id);
    }
    // Each endpoint's secret verifies its deliveries, both ways; the other endpoint's secret does not.
    const at = (path: string) => ofCharger(r, id).filter((x) => x.path === path);
    for (const [path, secret, otherSecret] of [['/hooks', generated.secret, given], ['/chosen', given, generated.secret]] as const) {
      expect(at(path).map((x) => x.json.id)).toEqual(ids);
      for (const x of at(path)) {
        expect(dynamoSignatureValid(secret, x)).toBe(true);
        expect(standardSignatureValid(secret, x)).toBe(true);
        expect(dynamoSignatureValid(otherSecret, x)).toBe(false);
        expect(standardSignatureValid(otherSecret, x)).toBe(false);
        // A changed body, or an old timestamp (a replay), fails verification.
        expect((JSON.parse(x.body) as { data: { connector_id: number } }).data.connector_id).toBe(1);
        const tampered = { ...x, body: x.body.replace(/"connector_id":\s*1\b/, '"connector_id": 2') };
        expect(tampered.body).not.toBe(x.body);
        expect(dynamoSignatureValid(secret, tampered)).toBe(false);
        expect(standardSignatureValid(secret, tampered)).toBe(false);
        expect(standardSignatureValid(secret, { ...x, headers: { ...x.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) } })).toBe(false);
      }
    }
  });

  it('keeps each endpoint in log order: after 500s it retries the same event, and the next waits for it (head of line)', async () => {
    const r = await receiver();
    let failuresLeft = 3;
    // The second event of the charger fails three times before it is accepted; every answer to it
    // comes SLOW_MS late, so each of its attempts took at least that long.
    const SLOW_MS = 150;
    r.respondWith((x) => {
      const mine = ofCharger(r, x.json?.data?.charge_point_id ?? '');
      if (mine.length < 2 || x.json.id !== mine[1]!.json.id) return { status: 204 };
      if (failuresLeft > 0) {
        failuresLeft--;
        return { status: 500, delayMs: SLOW_MS };
      }
      return { status: 204, delayMs: SLOW_MS };
    });
    const e = await create({ url: r.url, events: CONNECTOR_EVENTS });
    const { id } = await chargerWithChanges(6);
    await r.waitFor(() => new Set(ofCharger(r, id).map((x) => x.json.id)).size >= 6);
    const ids = await logged(id);
    expect(ids).toHaveLength(6);
    const seen = ofCharger(r, id).map((x) => x.json.id);
    // Exactly: 1, 2 (500), 2 (500), 2 (500), 2 (accepted), 3, 4, 5, 6; one request at a time.
    expect(seen).toEqual([ids[0], ids[1], ids[1], ids[1], ids[1], ...ids.slice(2)]);
    expect(r.maxInFlight).toBe(1);
    // Retries carry the same webhook-id and a fresh signature.
    const retries = ofCharger(r, id).filter((x) => x.json.id === ids[1]);
    expect(new Set(retries.map((x) => x.headers['webhook-id']))).toEqual(new Set([ids[1]]));
    for (const x of retries) expect(dynamoSignatureValid(e.secret, x) && standardSignatureValid(e.secret, x)).toBe(true);

    const d = await eventually(() => deliveries(e.id), (b) => b.deliveries?.length === 6);
    const second = d.deliveries.find((x: any) => x.event_id === ids[1]);
    expect(second).toMatchObject({ status: 'delivered', attempts: 4, last_status_code: 204, last_error: null, next_attempt_at: null });
    expect(second.attempt_log.map((a: any) => a.status_code)).toEqual([500, 500, 500, 204]);
    expect(second.attempt_log[0].error).toBe('HTTP 500');
    // Measured from the request to the answer (1 ms for the receiver's timer granularity).
    for (const a of second.attempt_log) expect(a.latency_ms).toBeGreaterThanOrEqual(SLOW_MS - 1);
    expect(second.last_latency_ms).toBe(second.attempt_log.at(-1).latency_ms);
    expect(d.deliveries.filter((x: any) => x.event_id !== ids[1]).every((x: any) => x.attempts === 1 && x.status === 'delivered')).toBe(true);
    // Newest first.
    expect(d.deliveries.map((x: any) => x.event_id)).toEqual([...ids].reverse());
    expect((await bed.t.api('GET', `/api/v1/webhooks/endpoints/${e.id}`)).body).toMatchObject({ status: 'active', failing_since: null });
  });

  it('retries after a timeout, shows the pending delivery with its next attempt, and honours Retry-After', async () => {
    const r = await receiver();
    let mode: 'hang' | 'busy' | 'ok' = 'hang';
    const busyAnsweredAt: number[] = [];
    r.respondWith((x) => {
      if (mode === 'hang') return { status: 200, delayMs: 3000 };
      if (mode === 'ok') return { status: 200 };
      busyAnsweredAt.push(x.at);
      return { status: 503, headers: { 'retry-after': '2' } };
    });
    const e = await create({ url: r.url, events: CONNECTOR_EVENTS });
    const { id } = await chargerWithChanges(2);
    const [first, second] = await eventually(() => logged(id), (x) => x.length === 2);
    // While the receiver hangs (beyond the 1 s timeout) the event stays pending, with its next attempt.
    const pending = await eventually(() => deliveries(e.id, '?status=pending'), (b) => b.deliveries?.length === 1 && b.deliveries[0].attempts >= 1);
    expect(pending.deliveries[0]).toMatchObject({ event_id: first, status: 'pending', last_status_code: null });
    expect(pending.deliveries[0].last_error).toMatch(/no complete answer within 1 s/);
    const shown = pending.deliveries[0];
    // The API shows whole seconds: the next attempt is not before the end of the last one.
    expect(Date.parse(shown.next_attempt_at)).toBeGreaterThanOrEqual(Math.floor((Date.parse(shown.attempt_log.at(-1).at) + shown.attempt_log.at(-1).latency_ms) / 1000) * 1000);
    // To the millisecond (the stored row): after n failed attempts the wait is within the backoff's
    // window, [ceiling/2, ceiling] with ceiling = base × 2^(n-1), counted from when the attempt gave up
    // (its start plus its latency), and the row is written after the wait was chosen.
    const [row] = await bed.svc.service.db.query<{ attempts: number; attempt_log: { at: string; latency_ms: number }[]; next_attempt_at: Date; updated_at: Date }>(
      `SELECT attempts, attempt_log, next_attempt_at, updated_at FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'`,
      [e.id],
    );
    const ceiling = RETRY_BASE_MS * 2 ** (row!.attempts - 1);
    const gaveUpAt = Date.parse(row!.attempt_log.at(-1)!.at) + row!.attempt_log.at(-1)!.latency_ms;
    // 2 ms: the attempt's start is stored to the millisecond and its latency rounded.
    expect(row!.next_attempt_at.getTime() - gaveUpAt).toBeGreaterThanOrEqual(ceiling / 2 - 2);
    expect(row!.next_attempt_at.getTime() - row!.updated_at.getTime()).toBeLessThanOrEqual(ceiling);
    // And the worker keeps to it: the next attempt of that event reaches the receiver no earlier.
    const again = await r.waitFor(() => ofCharger(r, id).filter((x) => x.json.id === first).length > row!.attempts);
    expect(again.filter((x) => x.json.data.charge_point_id === id && x.json.id === first)[row!.attempts]!.at).toBeGreaterThanOrEqual(row!.next_attempt_at.getTime() - 1);
    expect((await bed.t.api('GET', `/api/v1/webhooks/endpoints/${e.id}`)).body.failing_since).toMatch(/Z$/);

    // Then it answers 503 with Retry-After: 2: the next attempt waits at least that long, not the 0.2 s backoff.
    mode = 'busy';
    await eventually(async () => busyAnsweredAt.length, (n) => n >= 2, 20_000);
    mode = 'ok';
    await r.waitFor(() => ofCharger(r, id).some((x) => x.json.id === second));
    expect(busyAnsweredAt[1]! - busyAnsweredAt[0]!).toBeGreaterThanOrEqual(1900);
    // The second event went out only after the first was accepted.
    const order = ofCharger(r, id).map((x) => x.json.id);
    expect(order.indexOf(second)).toBeGreaterThan(order.lastIndexOf(first));
    const done = await eventually(() => deliveries(e.id), (b) => b.deliveries.filter((x: any) => x.status === 'delivered').length === 2);
    const log = done.deliveries.find((x: any) => x.event_id === first).attempt_log;
    expect(log.at(-1).status_code).toBe(200);
    expect(log.some((a: any) => a.status_code === null && /no complete answer/.test(a.error))).toBe(true);
    expect(log.some((a: any) => a.status_code === 503)).toBe(true);
  });

  it('disables an endpoint at once on 410 Gone and tells the other endpoints with webhook_endpoint.disabled', async () => {
    const gone = await receiver(() => ({ status: 410 }));
    const watcher = await receiver();
    const e = await create({ url: gone.url, events: CONNECTOR_EVENTS });
    await create({ url: watcher.url, events: ['webhook_endpoint.disabled'] });
    const { id, flip } = await chargerWithChanges(1);
    const told = await watcher.waitFor((rs) => rs.some((x) => x.json?.data?.endpoint_id === e.id));
    const notice = told.find((x) => x.json.data.endpoint_id === e.id)!;
    const [first] = await logged(id);
    expect(notice.json).toMatchObject({
      event: 'webhook_endpoint.disabled',
      tenant_id: bed.t.tenantId,
      data: { endpoint_id: e.id, url: gone.url, reason: 'gone', last_event_id: first, last_status_code: 410 },
    });
    expect((await bed.t.api('GET', `/api/v1/webhooks/endpoints/${e.id}`)).body).toMatchObject({ status: 'disabled', disabled_reason: 'gone', enabled: true });
    const d = await deliveries(e.id);
    expect(d.deliveries).toHaveLength(1);
    expect(d.deliveries[0]).toMatchObject({ event_id: first, status: 'failed', attempts: 1, last_status_code: 410, next_attempt_at: null });
    // Tried once, never again, also for later events.
    await flip(2);
    const watched = await bed.connect(await aCharger(bed.t.api, bed.site));
    await watched.call('StatusNotification', status(1, 'Available'));
    await eventually(() => logged(id), (x) => x.length === 3);
    await sleep(1000);
    expect(ofCharger(gone, id)).toHaveLength(1);
    const metrics = (await bed.t.api('GET', '/metrics', { key: null })).body as string;
    expect(metrics).toMatch(/dynamo_webhook_endpoints_disabled_total\{reason="gone"\} [1-9]/);
    expect(metrics).toMatch(/dynamo_webhook_deliveries_total\{outcome="gone"\} [1-9]/);
  });

  it('pauses (enabled: false) without losing anything: on resume the events since are delivered in order', async () => {
    const r = await receiver();
    const e = await create({ url: r.url, events: CONNECTOR_EVENTS });
    const { id, flip } = await chargerWithChanges(1);
    await r.waitFor(() => ofCharger(r, id).length === 1);
    expect((await bed.t.api('PATCH', `/api/v1/webhooks/endpoints/${e.id}`, { body: { enabled: false } })).body.status).toBe('paused');
    await flip(3);
    await eventually(() => logged(id), (x) => x.length === 4);
    await sleep(1000);
    expect(ofCharger(r, id)).toHaveLength(1);
    expect((await bed.t.api('PATCH', `/api/v1/webhooks/endpoints/${e.id}`, { body: { enabled: true } })).body.status).toBe('active');
    await r.waitFor(() => ofCharger(r, id).length >= 4);
    expect(ofCharger(r, id).map((x) => x.json.id)).toEqual(await logged(id));
  });

  it('sends a signed test message on request and records it', async () => {
    const r = await receiver();
    const e = await create({ url: r.url, events: ['session.ended'] });
    const t = await bed.t.api('POST', `/api/v1/webhooks/endpoints/${e.id}/test`);
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ event: 'webhook_endpoint.test', event_id: null, status: 'delivered', attempts: 1, last_status_code: 200 });
    const got = r.received.find((x) => x.json?.event === 'webhook_endpoint.test')!;
    expect(got.json).toMatchObject({ tenant_id: bed.t.tenantId, data: { endpoint_id: e.id } });
    expect(got.json.id).toMatch(/^test_/);
    expect(dynamoSignatureValid(e.secret, got) && standardSignatureValid(e.secret, got)).toBe(true);
    expect((await deliveries(e.id)).deliveries[0]).toMatchObject({ id: t.body.id, event: 'webhook_endpoint.test' });
    // A receiver that is down: the outcome says so (and nothing is retried).
    await r.close();
    const down = await bed.t.api('POST', `/api/v1/webhooks/endpoints/${e.id}/test`);
    expect(down.body).toMatchObject({ status: 'failed', last_status_code: null });
    expect(down.body.last_error).toMatch(/ECONNREFUSED/);
  });

  it('counts deliveries by outcome and their latency in /metrics', async () => {
    const metrics = (await bed.t.api('GET', '/metrics', { key: null })).body as string;
    expect(metrics).toMatch(/dynamo_webhook_deliveries_total\{outcome="delivered"\} [1-9]/);
    expect(metrics).toMatch(/dynamo_webhook_deliveries_total\{outcome="http_error"\} [1-9]/);
    expect(metrics).toMatch(/dynamo_webhook_deliveries_total\{outcome="timeout"\} [1-9]/);
    expect(metrics).toMatch(/dynamo_webhook_delivery_duration_seconds_count\{outcome="delivered"\} [1-9]/);
    expect(metrics).toMatch(/dynamo_webhook_endpoints_held [1-9]/);
    expect(metrics).toMatch(/dynamo_webhook_delivery_lag_seconds \d/);
  });
});

describe(`webhook targets without the private-address flag (SSRF, ${dbKind})`, () => {
  // Plain http is allowed so that only the address rule is under test; DYNAMO_WEBHOOKS_ALLOW_PRIVATE is unset.
  let svc: TestService;
  let t: TenantFixture;
  let r: Receiver;
  beforeAll(async () => {
    svc = await startTestService({ DYNAMO_WEBHOOKS_ALLOW_HTTP: 'true', DYNAMO_WEBHOOKS_RETRY_BASE_MS: '200', DYNAMO_EVENTS_POLL_MS: '200' });
    t = await aTenant(svc.url);
    r = await aReceiver();
  });
  afterAll(async () => {
    await r?.close();
    await svc?.close();
  });

  it('refuses loopback, private, link-local, unique-local and mapped targets at creation', async () => {
    for (const url of [
      r.url,
      `http://localhost:${r.port}/hooks`,
      'http://10.0.0.8/hooks',
      'http://192.168.1.20/hooks',
      'https://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://0.0.0.0/',
    ]) {
      const res = await t.api('POST', '/api/v1/webhooks/endpoints', { body: { url, events: ['*'] } });
      expect(res.status, url).toBe(400);
      expect(res.body.error, url).toMatchObject({ code: 'webhook_target_forbidden', parameter: 'url' });
    }
    expect((await t.api('GET', '/api/v1/webhooks/endpoints')).body.total).toBe(0);
    expect(r.received).toHaveLength(0);
  });

  it('checks again at delivery time, against the address it connects to: a name now resolving to loopback gets nothing', async () => {
    // Created while it pointed at a public address; then its name "rebinds" to this host. Stored
    // directly, as the API would refuse it now.
    const created = await t.api('POST', '/api/v1/webhooks/endpoints', { body: { url: 'http://8.8.8.8:9/hooks', events: ['charge_point.connected'] } });
    expect(created.status).toBe(201);
    const endpoint = `/api/v1/webhooks/endpoints/${created.body.id}`;
    expect((await t.api('PATCH', endpoint, { body: { enabled: false } })).status).toBe(200);
    await svc.service.db.query('UPDATE webhook_endpoints SET url = $2 WHERE endpoint_id = $1', [created.body.id, `http://localhost:${r.port}/hooks`]);
    expect((await t.api('PATCH', endpoint, { body: { enabled: true } })).body.url).toBe(`http://localhost:${r.port}/hooks`);
    const site = (await t.api('POST', '/api/v1/cpo/sites', { body: { name: 'Depot' } })).body.site_id;
    const id = await aCharger(t.api, site);
    const { connectCharger } = await import('./support/charger.js');
    const c = await connectCharger(svc.wsUrl, id);
    try {
      const d = await eventually(
        async () => (await t.api('GET', `/api/v1/webhooks/endpoints/${created.body.id}/deliveries`)).body,
        (b) => b.deliveries?.length === 1 && b.deliveries[0].attempts >= 2,
        20_000,
      );
      expect(d.deliveries[0]).toMatchObject({ status: 'pending', last_status_code: null });
      expect(d.deliveries[0].last_error).toMatch(/localhost resolves to (127\.0\.0\.1|::1), which is a loopback/);
      expect(r.received).toHaveLength(0);
      const metrics = (await t.api('GET', '/metrics', { key: null })).body as string;
      expect(metrics).toMatch(/dynamo_webhook_deliveries_total\{outcome="refused"\} [1-9]/);
      // A test message is refused the same way.
      const test = await t.api('POST', `/api/v1/webhooks/endpoints/${created.body.id}/test`);
      expect(test.body).toMatchObject({ status: 'failed', last_status_code: null });
      expect(r.received).toHaveLength(0);
    } finally {
      await c.close({ force: true });
    }
  });
});

