import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { aChargerDriver, type ChargerDriver } from './support/driver.js';
import { eventually } from './support/history.js';
import { launchBrowser, openPage, screenshot, seriousViolations, signIn } from './support/browser.js';

const ids = (page: Page) => page.getByTestId('chargers-table').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-charger')));

/** The chargers table in Chromium: status chips, site filter, search, sort and paging, all done by the API. */
describe('web dashboard: chargers table', { timeout: 120_000 }, () => {
  let svc: TestService;
  let browser: Browser;
  let tenant: TenantFixture;
  const drivers: ChargerDriver[] = [];

  beforeAll(async () => {
    [svc, browser] = await Promise.all([startTestService(), launchBrowser()]);
    tenant = await aTenant(svc.url, 'Table CPO');
    const north = await aSite(tenant.api, { name: 'North' });
    const south = await aSite(tenant.api, { name: 'South' });
    // 55 registered chargers (more than one page of 50), three of them live.
    await Promise.all(
      Array.from({ length: 55 }, (_, k) => {
        const i = k + 1;
        const id = `TB-${String(i).padStart(2, '0')}`;
        return aCharger(tenant.api, i % 2 ? north : south, { charge_point_id: id, vendor: i % 5 === 0 ? 'Wallbox' : 'ABB', model: i % 5 === 0 ? 'Pulsar' : 'Terra AC' });
      }),
    );
    for (const [id, status, err] of [['TB-01', 'Available', undefined], ['TB-02', 'Faulted', 'GroundFailure'], ['TB-03', 'Available', undefined]] as const) {
      const d = await aChargerDriver(svc.wsUrl, id, 'ocpp1.6');
      await d.boot('Alfen', 'Eve Double', id === 'TB-03' ? '9.9.9-beta' : '6.1.0');
      await d.status(1, status, err ? { errorCode: err } : {});
      await d.heartbeat();
      drivers.push(d);
    }
    // Heartbeat times reach the database in the next last-seen flush (a few seconds): the table
    // shows what the API has, so wait for the API to have it.
    await eventually(
      async () => (await tenant.api('GET', '/api/v1/cpo/fleet/chargers?search=TB-0&limit=10')).body.chargers,
      (cs: { charge_point_id: string; last_heartbeat: string | null }[]) => ['TB-01', 'TB-02', 'TB-03'].every((id) => cs.find((c) => c.charge_point_id === id)?.last_heartbeat),
      20_000,
    );
  }, 180_000);

  afterAll(async () => {
    for (const d of drivers) await d.close().catch(() => {});
    await browser?.close();
    await svc?.close();
  });

  it('filters by status chip and site, searches, sorts by a column and pages', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, svc.url, tenant.key);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chargers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Chargers' }).waitFor();
    const status = page.getByRole('navigation', { name: 'Charger pages' }).locator('.pager-status');
    await status.filter({ hasText: '1–50 of 55 (page 1 of 2)' }).waitFor();
    expect((await ids(page)).slice(0, 3)).toEqual(['TB-01', 'TB-02', 'TB-03']);
    // Status in colour and in words; last heartbeat as a relative time.
    const row2 = page.locator('tr[data-charger="TB-02"]');
    expect(await row2.locator('.chip').textContent()).toContain('Faulted');
    expect(await row2.locator('.chip').getAttribute('class')).toContain('chip-bad');
    expect(await row2.locator('time').textContent()).toMatch(/now|second/);

    await page.getByRole('button', { name: 'Next' }).click();
    await status.filter({ hasText: '51–55 of 55 (page 2 of 2)' }).waitFor();
    expect(await ids(page)).toEqual(['TB-51', 'TB-52', 'TB-53', 'TB-54', 'TB-55']);

    // Chips: the API's status values; a filter starts again at page 1.
    await page.getByRole('button', { name: 'faulted', exact: true }).click();
    await status.filter({ hasText: '1–1 of 1' }).waitFor();
    expect(await ids(page)).toEqual(['TB-02']);
    expect(await page.getByRole('button', { name: 'faulted', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('button', { name: 'online', exact: true }).click();
    await status.filter({ hasText: '1–3 of 3' }).waitFor();
    await page.getByRole('button', { name: 'offline', exact: true }).click();
    await status.filter({ hasText: 'of 52' }).waitFor();
    await page.getByRole('button', { name: 'All', exact: true }).click();

    // Site filter.
    await page.getByLabel('Site').selectOption({ label: 'South' });
    await status.filter({ hasText: 'of 27' }).waitFor();
    await page.getByLabel('Site').selectOption({ label: 'All sites' });
    await status.filter({ hasText: 'of 55' }).waitFor();

    // Search: vendor, model, firmware (what the charger reported), identity.
    await page.getByLabel('Search').fill('wallbox');
    await status.filter({ hasText: 'of 11' }).waitFor();
    await page.getByLabel('Search').fill('9.9.9');
    await status.filter({ hasText: '1–1 of 1' }).waitFor();
    expect(await ids(page)).toEqual(['TB-03']);
    await page.getByLabel('Search').fill('TB-4');
    await status.filter({ hasText: 'of 10' }).waitFor();
    await page.getByLabel('Search').fill('');
    await status.filter({ hasText: 'of 55' }).waitFor();

    // Sort: by last heartbeat, most recent first (the three live chargers lead), then by id descending.
    await page.getByRole('button', { name: 'Last heartbeat' }).click(); // ascending: never heard first
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Last heartbeat' }).waitFor();
    await page.getByRole('button', { name: 'Last heartbeat' }).click();
    await page.locator('th[aria-sort="descending"]', { hasText: 'Last heartbeat' }).waitFor();
    await page.waitForFunction(() => document.querySelector('tbody tr')?.getAttribute('data-charger')?.match(/^TB-0[123]$/));
    expect(new Set((await ids(page)).slice(0, 3))).toEqual(new Set(['TB-01', 'TB-02', 'TB-03']));
    await page.getByRole('button', { name: 'Charger', exact: true }).click();
    await page.getByRole('button', { name: 'Charger', exact: true }).click();
    await page.locator('th[aria-sort="descending"]', { hasText: 'Charger' }).waitFor();
    await page.waitForFunction(() => document.querySelector('tbody tr')?.getAttribute('data-charger') === 'TB-55');

    // The view lives in the URL: a reload keeps it.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('tbody tr')?.getAttribute('data-charger') === 'TB-55');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'chargers');

    // A row leads to the charger page.
    await page.getByRole('link', { name: 'TB-55' }).click();
    await page.getByRole('heading', { level: 1, name: /TB-55/ }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('stays usable at tablet width (768 px): no sideways scrolling of the page', async () => {
    const { context, page } = await openPage(browser, { width: 768, height: 1024 });
    await signIn(page, svc.url, tenant.key);
    // Each page with its content in place: its last panel shown and nothing loading. (Not 'networkidle':
    // the open event stream keeps a request in flight, so that state is reached only by chance.)
    const last: Record<string, string> = { '#/': 'Open alerts', '#/chargers': 'Charger list', '#/chargers/TB-02': 'OCPP message log' };
    for (const route of ['#/', '#/chargers', '#/chargers/TB-02']) {
      await page.goto(`${svc.url}/${route}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.getByRole('heading', { name: last[route], exact: true }).last().waitFor();
      await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, route).toBeLessThanOrEqual(0);
    }
    await context.close();
  });
});
