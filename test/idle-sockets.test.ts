import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { loadConfig } from '../src/config.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { connectCharger } from './support/charger.js';
import { dbKind } from './support/database.js';
import { ERROR_KEYS, rawExchange } from './support/raw-http.js';

describe(`idle sockets are closed after the configured timeouts (${dbKind})`, () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService({ DYNAMO_HTTP_HEADERS_TIMEOUT: '1', DYNAMO_HTTP_REQUEST_TIMEOUT: '2', DYNAMO_HTTP_KEEP_ALIVE_TIMEOUT: '1' });
  });
  afterAll(() => svc?.close());

  it('closes a connection that never sends a request after about DYNAMO_HTTP_HEADERS_TIMEOUT', async () => {
    const r = await rawExchange(svc.service.port, '', { waitMs: 6000 });
    expect(r.closedAfterMs).not.toBeNull();
    expect(r.closedAfterMs!).toBeGreaterThanOrEqual(900);
    expect(r.closedAfterMs!).toBeLessThan(2500);
  });

  it('closes a connection that never finishes its headers, answering 408 in the one shape', async () => {
    const r = await rawExchange(svc.service.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Half: ', { waitMs: 6000 });
    expect(r.closedAfterMs).not.toBeNull();
    expect(r.closedAfterMs!).toBeGreaterThanOrEqual(900);
    expect(r.closedAfterMs!).toBeLessThan(2500);
    expect(r.status).toBe(408);
    const body = JSON.parse(r.body);
    expect(Object.keys(body.error).sort()).toEqual(ERROR_KEYS);
    expect(body.error).toMatchObject({ status: 408, code: 'request_timeout' });
  });

  it('closes an idle keep-alive connection after DYNAMO_HTTP_KEEP_ALIVE_TIMEOUT', async () => {
    const r = await rawExchange(svc.service.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n', { waitMs: 6000 });
    expect(r.status).toBe(200);
    expect(r.closedAfterMs).not.toBeNull();
    // Node adds up to a second of grace to keepAliveTimeout.
    expect(r.closedAfterMs!).toBeLessThan(3500);
  });

  it('leaves an upgraded OCPP connection alone however long it is quiet', async () => {
    const t = await aTenant(svc.url);
    const cp = await aCharger(t.api, await aSite(t.api));
    const charger = await connectCharger(svc.wsUrl, cp);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      const hb = (await charger.call('Heartbeat', {})) as { currentTime: string };
      expect(hb.currentTime).toBeTruthy();
    } finally {
      await charger.close({ force: true });
    }
  });

  it('validates the timeout variables', () => {
    expect(loadConfig({}).httpHeadersTimeoutSec).toBe(20);
    expect(() => loadConfig({ DYNAMO_HTTP_HEADERS_TIMEOUT: '0' })).toThrow(/DYNAMO_HTTP_HEADERS_TIMEOUT/);
    expect(() => loadConfig({ DYNAMO_HTTP_KEEP_ALIVE_TIMEOUT: 'soon' })).toThrow(/DYNAMO_HTTP_KEEP_ALIVE_TIMEOUT/);
    expect(() => loadConfig({ DYNAMO_HTTP_HEADERS_TIMEOUT: '60', DYNAMO_HTTP_REQUEST_TIMEOUT: '30' })).toThrow(/DYNAMO_HTTP_HEADERS_TIMEOUT/);
    expect(() => loadConfig({ DYNAMO_AUTH_FAILURE_LIMIT: '0' })).toThrow(/DYNAMO_AUTH_FAILURE_LIMIT/);
  });
});
