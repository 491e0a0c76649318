import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant } from './support/builders.js';
import { dbKind } from './support/database.js';
import { rawUpgradeStatus } from './support/raw-http.js';

/** GET from a chosen loopback address (Linux routes all of 127/8 to lo), so tests can be several clients. */
function getFrom(url: string, localAddress: string, headers: Record<string, string>): Promise<{ status: number; body: any; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(data), retryAfter: res.headers['retry-after'] as string | undefined }));
    });
    req.on('error', reject);
  });
}

describe(`rate limits that hold (${dbKind})`, () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService({ DYNAMO_RATE_LIMIT: '20', DYNAMO_AUTH_FAILURE_LIMIT: '5' });
  });
  afterAll(() => svc?.close());

  it('counts the limit per resolved key, however the Authorization header spells it', async () => {
    const t = await aTenant(svc.url, 'Spaces');
    const url = `${svc.url}/api/v1/cpo/sites`;
    const statuses: number[] = [];
    for (let i = 1; i <= 24; i++) {
      // "Bearer" and 1…24 spaces, or X-API-Key: each spelling once, all the same key.
      const headers: Record<string, string> = i % 2 ? { authorization: `Bearer${' '.repeat(i)}${t.key}` } : { 'x-api-key': t.key };
      statuses.push((await getFrom(url, '127.0.0.1', headers)).status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429]);
  });

  it('throttles failed authentication per address, before the key is looked up', async () => {
    const url = `${svc.url}/api/v1/cpo/sites`;
    const good = await aTenant(svc.url, 'Innocent');
    const from = '127.0.0.3';
    for (let i = 0; i < 5; i++) {
      const r = await getFrom(url, from, { authorization: `Bearer dyn_key_guess-${i}` });
      expect(r.status).toBe(401);
    }
    const throttled = await getFrom(url, from, { authorization: 'Bearer dyn_key_guess-6' });
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toMatchObject({ status: 429, code: 'rate_limited', parameter: null });
    expect(Number(throttled.retryAfter)).toBeGreaterThan(0);
    // Refused before the lookup: even a valid key (tenant or admin) from that address waits.
    expect((await getFrom(url, from, { authorization: `Bearer ${good.key}` })).status).toBe(429);
    expect((await getFrom(`${svc.url}/api/v1/admin/tenants`, from, { authorization: `Bearer ${ADMIN_KEY}` })).status).toBe(429);
    // Public routes stay open.
    expect((await getFrom(`${svc.url}/healthz`, from, {})).status).toBe(200);
    // Other addresses are not affected.
    expect((await getFrom(url, '127.0.0.4', { authorization: `Bearer ${good.key}` })).status).toBe(200);
    expect((await getFrom(url, '127.0.0.4', { authorization: 'Bearer dyn_key_one-typo' })).status).toBe(401);
  });

  it('backs off wrong charger passwords per identity and address, without checking the password meanwhile', async () => {
    const t = await aTenant(svc.url, 'Chargers');
    const site = await aSite(t.api);
    const cp = await aCharger(t.api, site, { password: 'right-password-123' });
    const other = await aCharger(t.api, site, { password: 'other-password-456' });
    const port = svc.service.port;
    const attempt = (id: string, password: string, localAddress = '127.0.0.5') =>
      rawUpgradeStatus(port, `/ocpp/${id}`, { basic: [id, password], localAddress });

    // Three free attempts, then each wrong password starts a doubling lockout (1 s, 2 s, …).
    for (let i = 0; i < 4; i++) expect((await attempt(cp, `wrong-password-${i}`)).status).toBe(401);
    const locked = await attempt(cp, 'right-password-123');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Another address, or another identity from this address, is not held back.
    expect((await attempt(cp, 'right-password-123', '127.0.0.6')).status).toBe(101);
    expect((await attempt(other, 'other-password-456')).status).toBe(101);
    // Once the lockout has passed, the right password is accepted and clears the record.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await attempt(cp, 'right-password-123')).status).toBe(101);
    expect((await attempt(cp, 'wrong-password-again')).status).toBe(401);
    expect((await attempt(cp, 'right-password-123')).status).toBe(101);
  });
});
