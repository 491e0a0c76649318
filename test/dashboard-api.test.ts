import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestService, ADMIN_KEY, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { aChargerDriver } from './support/driver.js';
import { apiClient } from './support/http.js';
import { eventually } from './support/history.js';
import { defaultWebDir } from '../src/api/routes/dashboard.js';

/** What the dashboard stands on beyond the contract: key introspection, charger search and sort, the static files. */
describe('dashboard support in the API', () => {
  let svc: TestService;
  let tenant: TenantFixture;

  beforeAll(async () => {
    svc = await startTestService();
    tenant = await aTenant(svc.url, 'Search CPO');
    const site = await aSite(tenant.api, { name: 'One' });
    const site2 = await aSite(tenant.api, { name: 'Two' });
    await aCharger(tenant.api, site, { charge_point_id: 'SR-a', vendor: 'ABB', model: 'Terra 54' });
    await aCharger(tenant.api, site2, { charge_point_id: 'SR-b', vendor: 'Wallbox', model: 'Pulsar_Plus' });
    await aCharger(tenant.api, site, { charge_point_id: 'SR-c', vendor: 'abb', model: 'Terra AC' });
    await aCharger(tenant.api, site2, { charge_point_id: 'SR-d' });
    const d = await aChargerDriver(svc.wsUrl, 'SR-d', 'ocpp1.6');
    await d.boot('Kempower', 'S-Series', '2.0.0-rc1');
    await d.heartbeat();
    await d.close();
  });
  afterAll(async () => {
    await svc?.close();
  });

  describe('GET /api/v1/cpo/api-key', () => {
    it('describes the key to its holder: tenant and scopes, never the secret', async () => {
      const r = await tenant.api('GET', '/api/v1/cpo/api-key');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ name: 'test', tenant_id: tenant.tenantId, tenant_name: 'Search CPO' });
      expect(r.body.scopes).toContain('write:maintenance');
      expect(tenant.key.startsWith(r.body.prefix)).toBe(true);
      expect(JSON.stringify(r.body)).not.toContain(tenant.key);
    });

    it('answers a key with any scopes, lists only those, and refuses no key, the admin key and a revoked key', async () => {
      const narrow = await aTenant(svc.url, 'Narrow', ['read:sites']);
      const r = await narrow.api('GET', '/api/v1/cpo/api-key');
      expect(r.status).toBe(200);
      expect(r.body.scopes).toEqual(['read:sites']);
      expect((await narrow.api('GET', '/api/v1/cpo/fleet/summary')).status).toBe(403);
      expect((await tenant.api('GET', '/api/v1/cpo/api-key', { key: null })).status).toBe(401);
      const admin = await tenant.api('GET', '/api/v1/cpo/api-key', { key: ADMIN_KEY });
      expect(admin.status).toBe(403);
      expect(admin.body.error.code).toBe('tenant_key_required');
      const adminApi = apiClient(svc.url, ADMIN_KEY);
      const keys = await adminApi('GET', `/api/v1/admin/tenants/${narrow.tenantId}/api-keys`);
      await adminApi('DELETE', `/api/v1/admin/tenants/${narrow.tenantId}/api-keys/${keys.body.api_keys[0].key_id}`);
      const revoked = await narrow.api('GET', '/api/v1/cpo/api-key');
      expect(revoked.status).toBe(401);
      expect(revoked.body.error.code).toBe('unauthorized');
    });
  });

  describe('GET /api/v1/cpo/fleet/chargers: search and sort', () => {
    const list = async (q: string) => {
      const r = await tenant.api('GET', `/api/v1/cpo/fleet/chargers?${q}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return { ids: r.body.chargers.map((c: any) => c.charge_point_id), total: r.body.total };
    };

    it('searches identity, vendor, model and reported firmware, case-insensitively and literally', async () => {
      expect(await list('search=abb')).toEqual({ ids: ['SR-a', 'SR-c'], total: 2 });
      expect(await list('search=terra%20ac')).toEqual({ ids: ['SR-c'], total: 1 });
      expect(await list('search=sr-B')).toEqual({ ids: ['SR-b'], total: 1 });
      // What the charger reported at boot (vendor, firmware) is searched, not only what was registered.
      expect(await list('search=kempower')).toEqual({ ids: ['SR-d'], total: 1 });
      expect(await list('search=2.0.0-rc')).toEqual({ ids: ['SR-d'], total: 1 });
      // % and _ are characters, not wildcards.
      expect(await list('search=_')).toEqual({ ids: ['SR-b'], total: 1 });
      expect(await list('search=%25')).toEqual({ ids: [], total: 0 });
      // With the other filters and paging: total counts every match, not the page.
      expect(await list('search=sr&limit=1&offset=1')).toEqual({ ids: ['SR-b'], total: 4 });
      expect(await list('search=sr&status=offline')).toEqual({ ids: ['SR-a', 'SR-b', 'SR-c', 'SR-d'], total: 4 });
    });

    it('sorts by a column in either order, unknown values first when ascending, ties by identity', async () => {
      expect((await list('sort=vendor&order=asc')).ids).toEqual(['SR-a', 'SR-c', 'SR-d', 'SR-b']);
      expect((await list('sort=model')).ids).toEqual(['SR-b', 'SR-d', 'SR-a', 'SR-c']);
      expect((await list('sort=vendor&order=desc')).ids).toEqual(['SR-b', 'SR-d', 'SR-c', 'SR-a']);
      expect((await list('order=desc')).ids).toEqual(['SR-d', 'SR-c', 'SR-b', 'SR-a']);
    });

    it('sorts by reported firmware and by last heartbeat, each in an order of its own, unknown values first when ascending', async () => {
      // A tenant of its own whose identity order (SO-a … SO-d) is neither the firmware order nor the
      // heartbeat order, ascending or descending: a sort that were ignored would show.
      const sorted = await aTenant(svc.url, 'Sort CPO');
      const site = await aSite(sorted.api);
      const firmware: Record<string, string | undefined> = { 'SO-a': '3.1', 'SO-b': undefined, 'SO-c': '1.4', 'SO-d': '2.0' };
      for (const id of Object.keys(firmware)) await aCharger(sorted.api, site, { charge_point_id: id });
      const drivers = new Map<string, Awaited<ReturnType<typeof aChargerDriver>>>();
      for (const [id, fw] of Object.entries(firmware)) {
        if (fw === undefined) continue; // SO-b never connects: no firmware, no heartbeat
        const d = await aChargerDriver(svc.wsUrl, id, 'ocpp1.6');
        await d.boot('ABB', 'Terra', fw);
        drivers.set(id, d);
      }
      // Heartbeats in the order c, a, d; each answered at a later millisecond than the one before,
      // so the recorded times differ (the answer's currentTime is the time recorded).
      let previous = '';
      for (const id of ['SO-c', 'SO-a', 'SO-d']) {
        let at = previous;
        while (at <= previous) at = (await drivers.get(id)!.client.call<{ currentTime: string }>('Heartbeat', {})).currentTime;
        previous = at;
      }
      await Promise.all([...drivers.values()].map((d) => d.close()));
      // Heartbeats are written in batches every few seconds.
      await eventually(() => sorted.api('GET', '/api/v1/cpo/fleet/chargers'), (r) => r.body.chargers.filter((c: any) => c.last_heartbeat !== null).length === 3);
      const ids = async (q: string) => {
        const r = await sorted.api('GET', `/api/v1/cpo/fleet/chargers?${q}`);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return r.body.chargers.map((c: any) => c.charge_point_id);
      };

      expect(await ids('sort=firmware_version')).toEqual(['SO-b', 'SO-c', 'SO-d', 'SO-a']);
      expect(await ids('sort=firmware_version&order=desc')).toEqual(['SO-a', 'SO-d', 'SO-c', 'SO-b']);
      expect(await ids('sort=last_heartbeat')).toEqual(['SO-b', 'SO-c', 'SO-a', 'SO-d']);
      expect(await ids('sort=last_heartbeat&order=desc')).toEqual(['SO-d', 'SO-a', 'SO-c', 'SO-b']);
      expect(await ids('sort=charge_point_id&order=desc')).toEqual(['SO-d', 'SO-c', 'SO-b', 'SO-a']);
    });

    it('refuses an unknown sort column, an unknown order and an empty or over-long search, naming the parameter', async () => {
      for (const [q, param] of [['sort=password_hash', 'sort'], ['order=sideways', 'order'], ['search=', 'search'], [`search=${'x'.repeat(101)}`, 'search']]) {
        const r = await tenant.api('GET', `/api/v1/cpo/fleet/chargers?${q}`);
        expect(r.status, q).toBe(400);
        expect(r.body.error).toMatchObject({ code: 'invalid_parameter', parameter: param });
      }
    });
  });

  describe('the dashboard files at /', () => {
    it('serves index.html without a key, with a strict CSP, revalidated; hashed assets cached for a year, compressed', async () => {
      const index = await fetch(`${svc.url}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toMatch(/^text\/html/);
      expect(index.headers.get('cache-control')).toBe('no-cache');
      const csp = index.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(index.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await index.text();
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(asset).toBeDefined();
      // No script, style or font from anywhere but this service.
      expect(html).not.toMatch(/(src|href)="https?:/);

      const js = await fetch(`${svc.url}${asset}`, { headers: { 'accept-encoding': 'br' } });
      expect(js.status).toBe(200);
      expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(js.headers.get('content-encoding')).toBe('br');
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect(await js.text()).toBe(await readFile(join(defaultWebDir(), asset!), 'utf8'));
    });

    it('leaves the API as it was: unknown API routes are JSON 404s, API routes still need a key, the files are not in the OpenAPI document', async () => {
      const missing = await fetch(`${svc.url}/api/v1/cpo/nothing-here`);
      expect(missing.status).toBe(404);
      expect((await missing.json()).error.code).toBe('not_found');
      expect((await fetch(`${svc.url}/api/v1/cpo/fleet/summary`)).status).toBe(401);
      expect((await fetch(`${svc.url}/assets/no-such-file.js`)).status).toBe(404);
      const doc = await (await fetch(`${svc.url}/openapi.json`)).json();
      expect(Object.keys(doc.paths)).toContain('/api/v1/cpo/api-key');
      expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/') && !['/healthz', '/readyz', '/metrics'].includes(p))).toEqual([]);
    });
  });
});
