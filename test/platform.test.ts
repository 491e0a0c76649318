import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCharger } from './support/charger.js';
import { startTestService, type TestService } from './support/service.js';
import { apiClient } from './support/http.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { dbKind } from './support/database.js';

describe(`platform: health, metrics, docs, errors, limits (${dbKind})`, () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService({ DYNAMO_RATE_LIMIT: '40' });
  });
  afterAll(() => svc?.close());

  it('answers /healthz and /readyz', async () => {
    const api = apiClient(svc.url);
    expect((await api('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await api('GET', '/readyz')).body).toEqual({ status: 'ready', database: dbKind });
  });

  it('serves Prometheus metrics, OpenAPI and interactive docs from the route schemas', async () => {
    const api = apiClient(svc.url);
    await api('GET', '/healthz');
    const metrics = await api('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toContain('dynamo_http_request_duration_seconds_bucket');
    expect(metrics.body).toContain('dynamo_ocpp_connections');

    const spec = await api('GET', '/openapi.json');
    expect(spec.status).toBe(200);
    expect(spec.body.openapi).toBe('3.1.0');
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/admin/tenants', '/api/v1/cpo/sites', '/api/v1/cpo/chargers/{charge_point_id}']),
    );
    const post = spec.body.paths['/api/v1/cpo/chargers'].post;
    expect(post.requestBody.content['application/json'].schema.properties.charge_point_id.maxLength).toBe(48);

    const docs = await fetch(`${svc.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('answers unknown routes with the error shape', async () => {
    const r = await apiClient(svc.url)('GET', '/api/v1/nope');
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({ status: 404, code: 'not_found' });
    expect(r.headers.get('x-request-id')).toBe(r.body.error.request_id);
  });

  it('refuses a huge body with 413 and stores nothing', async () => {
    const t = await aTenant(svc.url, 'Big');
    const r = await t.api('POST', '/api/v1/cpo/sites', { body: { name: 'x', address: 'y'.repeat(300_000) } });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
    expect((await t.api('GET', '/api/v1/cpo/sites')).body.total).toBe(0);
  });

  it('rate limits per key with 429 and Retry-After', async () => {
    const t = await aTenant(svc.url, 'Busy');
    let limited;
    for (let i = 0; i < 45 && !limited; i++) {
      const r = await t.api('GET', '/api/v1/cpo/sites');
      if (r.status === 429) limited = r;
    }
    expect(limited).toBeDefined();
    expect(limited!.body.error.code).toBe('rate_limited');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another key is not affected.
    const other = await aTenant(svc.url, 'Calm');
    expect((await other.api('GET', '/api/v1/cpo/sites')).status).toBe(200);
  });

  it('keeps /healthz and OCPP answers prompt while a slow query runs', async () => {
    const t = await aTenant(svc.url, 'Slow');
    const site = await aSite(t.api);
    const cp = await aCharger(t.api, site);
    const charger = await connectCharger(svc.wsUrl, cp);
    try {
      const slow = svc.service.db.query('SELECT pg_sleep(3)');
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      expect((await apiClient(svc.url)('GET', '/healthz')).status).toBe(200);
      const healthMs = Date.now() - t0;
      const t1 = Date.now();
      const hb = (await charger.call('Heartbeat', {})) as { currentTime: string };
      const heartbeatMs = Date.now() - t1;
      expect(hb.currentTime).toBeTruthy();
      // Generous margins: the slow query takes 3000 ms; these must not wait for it.
      expect(healthMs).toBeLessThan(1000);
      expect(heartbeatMs).toBeLessThan(1000);
      await slow;
    } finally {
      await charger.close({ force: true });
    }
  });
  // Log redaction is tested on the log output of a real process: test/process-safety.test.ts.
});
