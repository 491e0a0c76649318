import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestService, ADMIN_KEY, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { aChargerDriver, type ChargerDriver } from './support/driver.js';
import { apiClient } from './support/http.js';
import { launchBrowser, openPage, screenshot, seriousViolations, signIn, textEventually } from './support/browser.js';

/**
 * The dashboard in Debian's Chromium against the real service and real chargers over OCPP:
 * sign-in and its refusals, the overview refreshing itself, scope-aware controls.
 */
describe('web dashboard: sign-in and fleet overview', { timeout: 120_000 }, () => {
  let svc: TestService;
  let browser: Browser;
  let tenant: TenantFixture;
  let depot: string;
  const drivers: ChargerDriver[] = [];

  beforeAll(async () => {
    [svc, browser] = await Promise.all([startTestService(), launchBrowser()]);
    tenant = await aTenant(svc.url, 'Overview CPO');
    depot = await aSite(tenant.api, { name: 'Depot North' });
    const mall = await aSite(tenant.api, { name: 'Mall South' });
    const a = await aCharger(tenant.api, depot, { charge_point_id: 'OV-A1' });
    const b = await aCharger(tenant.api, mall, { charge_point_id: 'OV-B1' });
    await aCharger(tenant.api, depot, { charge_point_id: 'OV-A2' });
    for (const [id, protocol] of [[a, 'ocpp1.6'], [b, 'ocpp2.0.1']] as const) {
      const d = await aChargerDriver(svc.wsUrl, id, protocol);
      await d.boot('Alfen', 'Eve Single', '6.1.0');
      await d.status(1, 'Available');
      drivers.push(d);
    }
  }, 180_000);

  afterAll(async () => {
    for (const d of drivers) await d.close().catch(() => {});
    await browser?.close();
    await svc?.close();
  });

  it('refuses a wrong key and the admin key with a clear page, keeps a good key in the tab session only', async () => {
    const { context, page, problems } = await openPage(browser);
    await page.goto(`${svc.url}/`);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('API key').fill('dyn_key_this-is-not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('sign-in-reason').filter({ hasText: 'wrong, or it has been revoked' }).waitFor();

    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('sign-in-reason').filter({ hasText: 'admin key' }).waitFor();

    await page.getByLabel('API key').fill(tenant.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();
    expect(page.url()).not.toContain(tenant.key);
    expect(await page.evaluate(() => sessionStorage.getItem('dynamo.apiKey'))).toBe(tenant.key);
    expect(await page.evaluate(() => localStorage.length + document.cookie.length)).toBe(0);
    await page.getByText('Overview CPO · key “test”').waitFor();

    // A reload resumes the session from this tab's storage.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('sign-in-reason').filter({ hasText: 'You signed out' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('dynamo.apiKey'))).toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('signs out with the reason when the key is revoked while the dashboard is open', async () => {
    const admin = apiClient(svc.url, ADMIN_KEY);
    const k = await admin('POST', `/api/v1/admin/tenants/${tenant.tenantId}/api-keys`, { body: { name: 'soon revoked' } });
    const { context, page } = await openPage(browser);
    await signIn(page, svc.url, k.body.key);
    expect((await admin('DELETE', `/api/v1/admin/tenants/${tenant.tenantId}/api-keys/${k.body.key_id}`)).status).toBe(200);
    // The next live refresh is refused with 401: back to sign-in, saying why, the key forgotten.
    await page.getByTestId('sign-in-reason').filter({ hasText: 'stopped accepting your key' }).waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => sessionStorage.getItem('dynamo.apiKey'))).toBeNull();
    await context.close();
  });

  it('updates the tiles and the recent errors when a charger faults and recovers, without a reload', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, svc.url, tenant.key);
    const tile = (name: string) => `[data-tile="${name}"] .tile-value`;
    expect(await textEventually(page, tile('Total chargers'), (t) => t === '3')).toBe('3');
    expect(await textEventually(page, tile('Online'), (t) => t === '2')).toBe('2');
    expect(await textEventually(page, tile('Offline'), (t) => t === '1')).toBe('1');
    expect(await textEventually(page, tile('Faulted'), (t) => t === '0')).toBe('0');
    await page.evaluate(() => ((window as any).sameDocument = true));

    await drivers[0]!.status(1, 'Faulted', { errorCode: 'GroundFailure', info: 'RCD tripped' });
    expect(await textEventually(page, tile('Faulted'), (t) => t === '1')).toBe('1');
    expect(await textEventually(page, tile('Available'), (t) => t === '1')).toBe('1');
    const recent = page.getByTestId('recent-errors').locator('li', { hasText: 'GroundFailure' });
    await recent.waitFor();
    expect(await recent.getByRole('link', { name: 'OV-A1' }).getAttribute('href')).toBe('#/chargers/OV-A1');
    await screenshot(page, 'overview-live');
    // The service has the alerts API: the open-alerts panel is on the overview.
    await page.getByRole('heading', { name: 'Open alerts' }).waitFor({ timeout: 20_000 });
    expect(await seriousViolations(page)).toEqual([]);

    await drivers[0]!.status(1, 'Available');
    expect(await textEventually(page, tile('Faulted'), (t) => t === '0')).toBe('0');
    await page.getByTestId('recent-errors').locator('li', { hasText: 'GroundFailure' }).waitFor({ state: 'detached' });
    expect(await page.evaluate(() => (window as any).sameDocument)).toBe(true);

    // The site filter narrows every figure to that site.
    await page.getByLabel('Site').selectOption({ label: 'Mall South' });
    expect(await textEventually(page, tile('Total chargers'), (t) => t === '1')).toBe('1');
    await page.getByTestId('fleet-uptime').filter({ hasText: 'Mall South' }).waitFor();
    expect(page.url()).toContain('site=site_');
    // Utilisation has a chart and its figures as a table.
    await page.getByRole('img', { name: /Fleet utilisation by hour|Fleet utilisation by day/ }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('disables what the key may not do and says why', async () => {
    const limited = await aTenant(svc.url, 'Narrow CPO', ['read:charge_points']);
    const { context, page, problems } = await openPage(browser);
    await signIn(page, svc.url, limited.key);
    await page.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();
    expect(await page.getByLabel('Site').isDisabled()).toBe(true);
    await page.getByText('Needs the read:sites scope').first().waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
