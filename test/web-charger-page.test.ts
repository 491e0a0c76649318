import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestService, type TestService } from './support/service.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { aChargerDriver } from './support/driver.js';
import { eventually } from './support/history.js';
import { aSimCharger } from './support/sim-charger.js';
import { backfillHistory } from '../src/sim/backfill.js';
import { launchBrowser, openPage, screenshot, seriousViolations, signIn } from './support/browser.js';

/** The charger page in Chromium: facts, connectors, the connectivity strip, error history, maintenance forms. */
describe('web dashboard: charger page', { timeout: 120_000 }, () => {
  let svc: TestService;
  let browser: Browser;
  let tenant: TenantFixture;

  beforeAll(async () => {
    [svc, browser] = await Promise.all([startTestService(), launchBrowser()]);
    tenant = await aTenant(svc.url, 'Charger CPO');
    // A month of history for two chargers of the tenant, for a charger page with a past
    // (written first: the backfill covers every charger the tenant has at that moment).
    await backfillHistory(svc.service.db, { tenantId: tenant.tenantId, days: 30, chargers: 8, sites: 3, sitePrefix: 'site_pg', chargerPrefix: 'PGH-' });
    const site = await aSite(tenant.api, { name: 'Depot' });
    await aCharger(tenant.api, site, { charge_point_id: 'PG-1' });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.close();
  });

  it('shows the charger, its live connectors, a disconnect on the timeline and its error history', async () => {
    // The charger connects, faults and recovers, drops, and comes back; each stretch lasts
    // over a second, as the API's times are whole seconds.
    const pause = () => new Promise((r) => setTimeout(r, 1_100));
    let d = await aChargerDriver(svc.wsUrl, 'PG-1', 'ocpp1.6');
    await d.boot('Kempower', 'S-Series', '1.2.3');
    await d.status(1, 'Available');
    await d.status(2, 'Available');
    await pause();
    await d.status(1, 'Faulted', { errorCode: 'HighTemperature', info: 'Cable 74 C' });
    await pause();
    await d.status(1, 'Available');
    await pause();
    await d.close();
    await pause();
    await eventually(() => tenant.api('GET', '/api/v1/cpo/chargers/PG-1/connectivity'), (r) => r.body.events.length === 2);
    d = await aChargerDriver(svc.wsUrl, 'PG-1', 'ocpp1.6');
    await d.boot('Kempower', 'S-Series', '1.2.3');
    await d.status(1, 'Available');
    await d.heartbeat();

    const { context, page, problems } = await openPage(browser);
    await signIn(page, svc.url, tenant.key);
    await page.goto(`${svc.url}/#/chargers/PG-1`);
    await page.getByRole('heading', { level: 1, name: /PG-1/ }).waitFor();
    const facts = page.getByTestId('charger-facts');
    await facts.getByText('Kempower / S-Series').waitFor();
    await facts.getByText('1.2.3', { exact: true }).waitFor();
    await facts.getByText('1.6', { exact: true }).waitFor();
    await page.getByTestId('connectors').locator('[data-connector="1"] [data-status="Available"]').waitFor();

    // The strip: online, then offline (the drop), then online again; the fault drawn while it lasted.
    const strip = page.locator('#timeline-h').locator('xpath=ancestor::section');
    await strip.locator('rect[data-state="offline"]').first().waitFor();
    const states = await strip.locator('.strip-list li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-state')));
    expect(states).toEqual(expect.arrayContaining(['online', 'offline', 'faulted']));
    expect(states[states.length - 1]).toBe('online');
    await strip.getByRole('button', { name: 'Zoom in' }).click();
    await strip.getByRole('button', { name: 'Whole period' }).waitFor({ state: 'visible' });
    expect(await strip.getByRole('button', { name: 'Whole period' }).isEnabled()).toBe(true);

    // Error history with its resolution time.
    const row = page.getByTestId('error-history').locator('tr', { hasText: 'HighTemperature' });
    await row.waitFor();
    expect(await row.textContent()).toContain('Cable 74 C');
    expect(await row.locator('strong.open').count()).toBe(0);

    // The service lists the commands, sessions and message-log routes: their sections are on the page.
    for (const name of ['Commands', 'Sessions', 'OCPP message log']) await page.getByRole('heading', { name, exact: true }).waitFor({ timeout: 20_000 });

    // Live: a connector that faults now shows it without a reload.
    await d.status(2, 'Faulted', { errorCode: 'ConnectorLockFailure' });
    await page.getByTestId('connectors').locator('[data-connector="2"] [data-status="Faulted"]').waitFor({ timeout: 30_000 });
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await d.close();
    await context.close();
  });

  it('logs maintenance with the API’s validation message at the field, then completes it', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, svc.url, tenant.key);
    await page.goto(`${svc.url}/#/chargers/PGH-00001`);
    const form = page.getByTestId('maintenance-form');
    await form.waitFor();

    // An empty description is refused by the API; its message appears at that field.
    await form.getByRole('button', { name: 'Log maintenance' }).click();
    const description = form.getByLabel('Description');
    await form.locator('#f-description-err').waitFor();
    expect(await description.getAttribute('aria-invalid')).toBe('true');
    expect(await form.locator('#f-description-err').textContent()).toMatch(/description/);

    // Completed before scheduled: the API names completed_at.
    await description.fill('Replace RCD on connector 1');
    await form.getByLabel('Scheduled at').fill('2026-03-10T10:00');
    await form.getByLabel('Completed at').fill('2026-03-09T10:00');
    await form.getByRole('button', { name: 'Log maintenance' }).click();
    await form.locator('#f-completed_at-err').filter({ hasText: 'completed_at must not be before scheduled_at' }).waitFor();
    expect(await page.locator('#f-description-err').count()).toBe(0);

    await form.getByLabel('Completed at').fill('');
    await form.getByLabel('Technician').fill('A. Volta');
    await form.getByRole('button', { name: 'Log maintenance' }).click();
    await form.getByRole('status').filter({ hasText: /Saved as mnt_/ }).waitFor();
    const item = page.getByTestId('maintenance-list').locator('li', { hasText: 'Replace RCD on connector 1' });
    await item.waitFor();
    expect(await item.getAttribute('data-completed')).toBe('no');
    const listed = await tenant.api('GET', '/api/v1/cpo/chargers/PGH-00001/maintenance');
    expect(listed.body.events).toHaveLength(1);
    expect(listed.body.events[0]).toMatchObject({ type: 'reactive', description: 'Replace RCD on connector 1', technician: 'A. Volta', completed_at: null });

    await item.getByRole('button', { name: 'Complete…' }).click();
    await item.getByRole('button', { name: 'Mark complete' }).click();
    await page.getByTestId('maintenance-list').locator('li[data-completed="yes"]', { hasText: 'Replace RCD on connector 1' }).waitFor();
    const done = await tenant.api('GET', '/api/v1/cpo/chargers/PGH-00001/maintenance');
    expect(done.body.events[0].completed_at).not.toBeNull();

    await page.getByRole('img', { name: /Daily utilisation of PGH-00001/ }).waitFor();
    await page.locator('rect[data-state="offline"]').first().waitFor();
    await page.getByRole('heading', { level: 1 }).scrollIntoViewIfNeeded();
    await screenshot(page, 'charger');
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a month of fleet history on the overview (the README screenshot)', async () => {
    const { context, page, problems } = await openPage(browser, { width: 1280, height: 900 });
    await signIn(page, svc.url, tenant.key);
    await page.goto(`${svc.url}/#/?period=30d`);
    await page.locator('[data-tile="Total chargers"] .tile-value').filter({ hasText: '9' }).waitFor();
    await page.getByTestId('fleet-uptime').filter({ hasText: '%' }).waitFor();
    await page.getByRole('img', { name: /Fleet utilisation by day/ }).waitFor();
    await screenshot(page, 'overview');
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('sends a reset from the browser after a confirmation, shows the charger’s answer, and the exchange in the message log', async () => {
    // A tenant of its own, so the fleet counts of the other tests stay as they are.
    const t = await aTenant(svc.url, 'Command CPO');
    const site = await aSite(t.api, { name: 'Workshop' });
    await aCharger(t.api, site, { charge_point_id: 'PG-SIM' });
    const sim = await aSimCharger(svc.wsUrl, 'PG-SIM', 'ocpp1.6');
    try {
      const { context, page, problems } = await openPage(browser);
      await signIn(page, svc.url, t.key);
      await page.goto(`${svc.url}/#/chargers/PG-SIM`);
      const commands = page.locator('#commands-h').locator('xpath=ancestor::section');
      await commands.getByRole('button', { name: 'Soft reset' }).click();
      // Nothing is sent before the confirmation.
      const confirm = commands.getByRole('alertdialog');
      await confirm.getByText('Soft reset on PG-SIM?').waitFor();
      expect(sim.received.filter((r) => r.action === 'Reset')).toEqual([]);
      expect(await seriousViolations(page)).toEqual([]);
      await confirm.getByRole('button', { name: 'Send soft_reset' }).click();
      const result = page.getByTestId('command-result').locator('[data-status="Accepted"]');
      await result.waitFor();
      expect(await result.textContent()).toMatch(/soft_reset: the charger answered Accepted in \d+ ms \(Reset\)/);
      expect(sim.received.filter((r) => r.action === 'Reset').map((r) => r.payload)).toEqual([{ type: 'Soft' }]);

      // The message log shows the CALL that went to the charger and its answer, with each frame's JSON.
      const log = page.getByTestId('messages');
      const call = log.locator('li[data-action="Reset"][data-type="CALL"][data-direction="out"]');
      await call.waitFor();
      const messageId = (await call.getAttribute('data-message-id'))!;
      const answer = log.locator(`li[data-type="CALLRESULT"][data-direction="in"][data-message-id="${messageId}"]`);
      await answer.waitFor();
      expect(await answer.getAttribute('data-action')).toBe('Reset');
      await call.locator('summary').click();
      await answer.locator('summary').click();
      expect(JSON.parse((await call.locator('pre').textContent())!)).toEqual([2, messageId, 'Reset', { type: 'Soft' }]);
      expect(JSON.parse((await answer.locator('pre').textContent())!)).toEqual([3, messageId, { status: 'Accepted' }]);

      // The filters narrow the log to the exchange.
      await page.getByLabel('Direction').selectOption('out');
      await log.locator('li[data-direction="in"]').first().waitFor({ state: 'detached' });
      expect(await log.locator('li[data-action="Reset"][data-type="CALL"]').count()).toBe(1);
      expect(await seriousViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await sim.stop();
    }
  });

  it('keeps the page when one section cannot be fetched or cannot render its answer: that section says why', async () => {
    const { context, page, problems } = await openPage(browser);
    // The commands section's code never arrives; the error history gets an answer it cannot draw.
    await page.route(/\/assets\/commands-[^/]+\.js$/, (r) => r.abort('connectionfailed'));
    await page.route(/\/error-history\?/, (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ errors: { length: 1 }, total: 1 }) }));
    await signIn(page, svc.url, tenant.key);
    await page.goto(`${svc.url}/#/chargers/PGH-00001`);
    const section = (title: string) => page.locator('section.panel', { has: page.getByRole('heading', { level: 2, name: title }) });
    await section('Commands').getByRole('alert').filter({ hasText: 'This section could not be loaded' }).waitFor();
    await section('Error history').getByRole('alert').filter({ hasText: 'This section failed to show' }).waitFor();
    // The rest of the page is there.
    await page.getByTestId('uptime-30d').filter({ hasText: '%' }).waitFor();
    await page.getByTestId('connectors').locator('li[data-connector="1"]').waitFor();
    expect(await page.getByRole('button', { name: 'Soft reset' }).count()).toBe(0);

    // Once the answer is one it can draw, trying again shows the section.
    await page.unroute(/\/error-history\?/);
    await section('Error history').getByRole('button', { name: 'Try again' }).click();
    const errors = await tenant.api('GET', '/api/v1/cpo/chargers/PGH-00001/error-history?limit=20');
    expect(errors.body.total).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('error-history').locator('tbody tr').count()).toBe(Math.min(errors.body.total, 20));
    // The refused chunk is the one problem the browser reports.
    expect(problems.filter((p) => !/ERR_CONNECTION_FAILED|commands-/.test(p))).toEqual([]);
    await context.close();
  });

  it('says when there is no such charger', async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, svc.url, tenant.key);
    await page.goto(`${svc.url}/#/chargers/NOPE-404`);
    await page.getByRole('alert').filter({ hasText: 'There is no charger “NOPE-404” in your fleet' }).waitFor();
    await context.close();
  });
});
