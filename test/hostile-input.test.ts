import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestService, type TestService } from './support/service.js';
import { apiClient, type ApiResponse } from './support/http.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { dbKind } from './support/database.js';
import { ERROR_KEYS, rawExchange } from './support/raw-http.js';

/** A refusal in the one error shape, never a 500. */
function expectRefusal(r: ApiResponse, status: number, code?: string, parameter?: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(Object.keys(r.body.error).sort()).toEqual(ERROR_KEYS);
  expect(r.body.error.status).toBe(status);
  expect(r.body.error.request_id).toBe(r.headers.get('x-request-id'));
  if (code) expect(r.body.error.code).toBe(code);
  if (parameter !== undefined) expect(r.body.error.parameter).toBe(parameter);
}

describe(`hostile input: 4xx in the one error shape, never a 500 (${dbKind})`, () => {
  let svc: TestService;
  let t: TenantFixture;
  let site: string;
  let cp: string;

  beforeAll(async () => {
    svc = await startTestService();
    t = await aTenant(svc.url, 'Hostile');
    site = await aSite(t.api);
    cp = await aCharger(t.api, site);
  });
  afterAll(() => svc?.close());

  it('refuses NUL bytes in path segments, filters and body strings with 400 naming the parameter', async () => {
    const admin = apiClient(svc.url, ADMIN_KEY);
    expectRefusal(await t.api('GET', '/api/v1/cpo/sites/site_a%00b'), 400, 'invalid_parameter', 'site_id');
    expectRefusal(await t.api('GET', `/api/v1/cpo/chargers/${cp}%00`), 400, 'invalid_parameter', 'charge_point_id');
    expectRefusal(await admin('GET', '/api/v1/admin/tenants/ten_%00'), 400, 'invalid_parameter', 'tenant_id');
    expectRefusal(await t.api('GET', '/api/v1/cpo/fleet/errors?error_code=Ground%00Failure'), 400, 'invalid_parameter', 'error_code');
    expectRefusal(await t.api('GET', '/api/v1/cpo/fleet/chargers?site_id=site_%00'), 400, 'invalid_parameter', 'site_id');
    expectRefusal(await t.api('GET', '/api/v1/cpo/fleet/errors?charge_point_id=%00'), 400, 'invalid_parameter', 'charge_point_id');
    expectRefusal(await t.api('POST', '/api/v1/cpo/sites', { body: { name: 'Depot\u0000 North' } }), 400, 'invalid_parameter', 'name');
    expectRefusal(await t.api('PATCH', `/api/v1/cpo/sites/${site}`, { body: { address: '\u0000' } }), 400, 'invalid_parameter', 'address');
    expectRefusal(
      await t.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, { body: { type: 'scheduled', description: 'fix\u0000it', scheduled_at: '2024-06-01T10:00:00Z' } }),
      400, 'invalid_parameter', 'description',
    );
    // Nothing was stored by any of them.
    expect((await t.api('GET', '/api/v1/cpo/sites')).body.total).toBe(1);
  });

  it('refuses leap seconds and instants outside years 0001-9999 once the offset is applied', async () => {
    const uptime = (from: string, to: string) => t.api('GET', `/api/v1/cpo/fleet/uptime?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expectRefusal(await uptime('2016-12-31T23:59:60Z', '2017-01-02T00:00:00Z'), 400, 'invalid_parameter', 'from');
    expectRefusal(await uptime('9999-12-01T00:00:00Z', '9999-12-31T23:00:00-05:00'), 400, 'invalid_parameter', 'to');
    expectRefusal(await uptime('0000-01-01T00:00:00+01:00', '0000-01-05T00:00:00Z'), 400, 'invalid_parameter', 'from');
    expectRefusal(await uptime('0000-01-01T00:00:00Z', '0000-01-05T00:00:00Z'), 400, 'invalid_parameter', 'from');
    expectRefusal(await t.api('GET', `/api/v1/cpo/fleet/errors?from=${encodeURIComponent('2016-12-31T23:59:60+00:00')}`), 400, 'invalid_parameter', 'from');
    expectRefusal(await t.api('GET', `/api/v1/cpo/chargers/${cp}/connectivity?to=${encodeURIComponent('9999-12-31T23:59:59-00:01')}`), 400, 'invalid_parameter', 'to');
    const maintenance = (scheduled_at: string) =>
      t.api('POST', `/api/v1/cpo/chargers/${cp}/maintenance`, { body: { type: 'inspection', description: 'yearly check', scheduled_at } });
    expectRefusal(await maintenance('2016-12-31T23:59:60Z'), 400, 'invalid_parameter', 'scheduled_at');
    expectRefusal(await maintenance('9999-12-31T23:00:00-05:00'), 400, 'invalid_parameter', 'scheduled_at');
    expectRefusal(await maintenance('0000-01-01T00:00:00+01:00'), 400, 'invalid_parameter', 'scheduled_at');
    // The edges themselves are fine.
    expect((await maintenance('9999-12-31T23:00:00Z')).status).toBe(201);
    expect((await maintenance('0001-01-01T00:00:00Z')).status).toBe(201);
    expect((await uptime('2016-12-31T23:59:59Z', '2017-01-02T00:00:00+01:00')).status).toBe(200);
  });

  it('refuses an offset beyond what the database can count', async () => {
    expectRefusal(await t.api('GET', '/api/v1/cpo/sites?offset=99999999999999999999'), 400, 'invalid_parameter', 'offset');
    expectRefusal(await t.api('GET', '/api/v1/cpo/sites?offset=9223372036854775808'), 400, 'invalid_parameter', 'offset');
    expectRefusal(await t.api('GET', '/api/v1/cpo/fleet/errors?offset=9223372036854775807'), 400, 'invalid_parameter', 'offset');
    expectRefusal(await t.api('GET', `/api/v1/cpo/chargers/${cp}/error-history?offset=1e30`), 400, 'invalid_parameter', 'offset');
    expect((await t.api('GET', `/api/v1/cpo/sites?offset=${Number.MAX_SAFE_INTEGER}`)).body.sites).toEqual([]);
  });

  it("answers Fastify's own refusals in the one shape: bad JSON, empty JSON, content type, bad URL", async () => {
    const json = { 'content-type': 'application/json' };
    expectRefusal(await t.api('POST', '/api/v1/cpo/sites', { raw: '{"name": ', headers: json }), 400, 'bad_request');
    expectRefusal(await t.api('POST', '/api/v1/cpo/sites', { raw: '', headers: json }), 400, 'bad_request');
    expectRefusal(await t.api('POST', '/api/v1/cpo/sites', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    expectRefusal(await t.api('POST', '/api/v1/cpo/sites', { raw: '{"name":"x"}', headers: { 'content-type': ';;;' } }), 415);
    expectRefusal(await t.api('GET', '/api/v1/cpo/sites/%FF'), 400, 'invalid_path');
    expectRefusal(await t.api('GET', '/api/v1/cpo/sites/%E0%A4%A'), 400, 'invalid_path');
  });

  it('answers headers too large (431) and an unparseable request (400) in the one shape, on a raw socket', async () => {
    const port = svc.service.port;
    const big = await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big.status).toBe(431);
    const bigBody = JSON.parse(big.body);
    expect(Object.keys(bigBody.error).sort()).toEqual(ERROR_KEYS);
    expect(bigBody.error).toMatchObject({ status: 431, code: 'headers_too_large', parameter: null });

    const garbage = await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body).error).toMatchObject({ status: 400, code: 'bad_request' });
    // And the service is still there.
    expect((await apiClient(svc.url)('GET', '/healthz')).status).toBe(200);
  });
});
