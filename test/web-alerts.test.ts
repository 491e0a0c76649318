import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ADMIN_KEY, startTestService, type TestService } from './support/service.js';
import { apiClient } from './support/http.js';
import { aCharger, aSite, aTenant, type TenantFixture } from './support/builders.js';
import { aChargerDriver, type ChargerDriver } from './support/driver.js';
import { aReceiver, type Receiver } from './support/webhook-receiver.js';
import { launchBrowser, openPage, screenshot, seriousViolations, signIn } from './support/browser.js';

/**
 * The alerts page in Chromium against the real service: an alert opened and resolved by a real
 * charger over OCPP, rules made in the browser, a webhook endpoint with its one-time secret and
 * a test delivered to a real HTTP receiver.
 */
describe('web dashboard: alerts, rules and webhooks', { timeout: 120_000 }, () => {
  let svc: TestService;
  let browser: Browser;
  let tenant: TenantFixture;
  let site: string;
  let receiver: Receiver;
  let d: ChargerDriver;

  beforeAll(async () => {
    [svc, browser, receiver] = await Promise.all([
      startTestService({
        // Rules evaluated every second, so an alert follows the charger within a test.
        DYNAMO_ALERTS_INTERVAL: '1',
        DYNAMO_EVENTS_POLL_MS: '200',
        // The receiver is plain http on 127.0.0.1: allowed for tests only (docs/alerts.md, "Where webhooks may go").
        DYNAMO_WEBHOOKS_ALLOW_HTTP: 'true',
        DYNAMO_WEBHOOKS_ALLOW_PRIVATE: 'true',
      }),
      launchBrowser(),
      aReceiver(),
    ]);
    tenant = await aTenant(svc.url, 'Alerts CPO');
    site = await aSite(tenant.api, { name: 'Harbour' });
    await aCharger(tenant.api, site, { charge_point_id: 'AL-1' });
    await aCharger(tenant.api, site, { charge_point_id: 'AL-2' });
    d = await aChargerDriver(svc.wsUrl, 'AL-1', 'ocpp1.6');
    await d.boot('ABB', 'Terra AC', '1.8.0');
    await d.status(1, 'Available');
  }, 180_000);

  afterAll(async () => {
    await d?.close().catch(() => {});
    await receiver?.close();
    await browser?.close();
    await svc?.close();
  });

  it('shows an alert open while a charger is faulted and resolved once it recovers, without a reload; filters; links to the charger', async () => {
    const rule = await tenant.api('POST', '/api/v1/cpo/alert-rules', { body: { name: 'Harbour faults', kind: 'faulted', site_id: site, delay_minutes: 0 } });
    expect(rule.status).toBe(201);
    const { context, page, problems } = await openPage(browser);
    await signIn(page, svc.url, tenant.key);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();
    await page.getByText('No alerts match these filters.').waitFor();
    // Proves the page is never reloaded: a reload would lose this.
    await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));

    await d.status(1, 'Faulted', { errorCode: 'GroundFailure' });
    const row = page.getByTestId('alert-list').locator('tbody tr').filter({ hasText: 'AL-1' });
    await row.and(page.locator('[data-state="open"]')).waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('Harbour faults');
    expect(await row.textContent()).toContain('still open');
    const alertId = await row.getAttribute('data-alert');
    expect(alertId).toMatch(/^alt_/);
    expect(await seriousViolations(page)).toEqual([]);

    await d.status(1, 'Available');
    await page.locator(`[data-alert="${alertId}"][data-state="resolved"]`).waitFor({ timeout: 30_000 });
    expect(await page.locator(`[data-alert="${alertId}"]`).textContent()).toContain('condition_cleared');
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);

    // Filters, as the API applies them, kept in the URL.
    await page.getByRole('combobox', { name: /^State/ }).selectOption('open');
    await page.getByText('No alerts match these filters.').waitFor();
    expect(page.url()).toContain('status=open');
    await page.getByRole('combobox', { name: /^State/ }).selectOption('resolved');
    await page.locator(`[data-alert="${alertId}"]`).waitFor();
    await page.getByRole('searchbox', { name: 'Charger' }).fill('AL-2');
    await page.getByText('No alerts match these filters.').waitFor();
    await page.getByRole('searchbox', { name: 'Charger' }).fill('AL-1');
    await page.locator(`[data-alert="${alertId}"]`).waitFor();
    await page.getByRole('combobox', { name: /^Rule/ }).selectOption({ label: 'Harbour faults' });
    await page.locator(`[data-alert="${alertId}"]`).waitFor();
    expect(page.url()).toContain(`rule=${rule.body.rule_id}`);

    // Each alert links to its charger.
    await page.locator(`[data-alert="${alertId}"]`).getByRole('link', { name: 'AL-1' }).click();
    await page.getByRole('heading', { level: 1, name: /AL-1/ }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('creates, edits, pauses and resumes a rule in the browser, with the API’s messages at the field', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, svc.url, tenant.key);
    await page.goto(`${svc.url}/#/alerts`);
    const form = page.getByTestId('rule-form');
    await form.waitFor();

    // Nothing typed: the API names the empty name.
    await form.getByRole('button', { name: 'Create rule' }).click();
    await form.locator('#f-new-name-err').waitFor();
    expect(await form.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await form.locator('#f-new-name-err').textContent()).toMatch(/name/);

    // An error_code rule without its code: the API says so at that field.
    await form.getByLabel('Name').fill('Ground failures');
    await form.getByLabel('Kind').selectOption('error_code');
    await form.getByRole('button', { name: 'Create rule' }).click();
    await form.locator('#f-new-error_code-err').filter({ hasText: 'an error_code rule needs error_code' }).waitFor();
    expect(await form.locator('#f-new-name-err').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    // A delay that is not a number.
    await form.getByLabel('Error code').fill('GroundFailure');
    await form.getByLabel('Delay (minutes)').fill('soon');
    await form.getByRole('button', { name: 'Create rule' }).click();
    await form.locator('#f-new-delay_minutes-err').waitFor();
    expect(await form.locator('#f-new-error_code-err').count()).toBe(0);

    // Fixed, and sent from the keyboard.
    await form.getByLabel('Delay (minutes)').fill('2');
    await form.getByLabel('One alert per connector').check();
    await form.getByLabel('Delay (minutes)').press('Enter');
    await form.getByRole('status').filter({ hasText: /Created Ground failures \(alr_/ }).waitFor();
    const rows = page.getByTestId('rule-list').locator('tbody tr');
    const row = rows.filter({ hasText: 'Ground failures' });
    await row.waitFor();
    const ruleId = (await row.getAttribute('data-rule'))!;
    const created = await tenant.api('GET', `/api/v1/cpo/alert-rules/${ruleId}`);
    expect(created.body).toMatchObject({ name: 'Ground failures', kind: 'error_code', error_code: 'GroundFailure', delay_minutes: 2, per_connector: true, enabled: true, site_id: null });

    // Edit: the form comes filled with the rule; a bad value is refused at its field, then saved.
    await row.getByRole('button', { name: 'Edit Ground failures' }).click();
    const edit = page.getByTestId('rule-edit-form');
    expect(await edit.getByLabel('Error code').inputValue()).toBe('GroundFailure');
    expect(await edit.getByLabel('Delay (minutes)').inputValue()).toBe('2');
    await edit.getByLabel('Delay (minutes)').fill('-1');
    await edit.getByRole('button', { name: 'Save rule' }).click();
    await edit.locator('#f-edit-delay_minutes-err').waitFor();
    await edit.getByLabel('Name').fill('Ground failures, Harbour');
    await edit.getByLabel('Site').selectOption({ label: 'Harbour' });
    await edit.getByLabel('Delay (minutes)').fill('0.5');
    await edit.getByRole('button', { name: 'Save rule' }).click();
    await rows.filter({ hasText: 'Ground failures, Harbour' }).waitFor();
    await edit.waitFor({ state: 'detached' });
    const edited = await tenant.api('GET', `/api/v1/cpo/alert-rules/${ruleId}`);
    expect(edited.body).toMatchObject({ name: 'Ground failures, Harbour', site_id: site, delay_minutes: 0.5, error_code: 'GroundFailure', per_connector: true, enabled: true });

    // Pause, then resume.
    await page.getByRole('button', { name: 'Pause Ground failures, Harbour' }).click();
    await page.locator(`[data-rule="${ruleId}"][data-enabled="no"]`).waitFor();
    expect(await page.locator(`[data-rule="${ruleId}"]`).textContent()).toContain('paused');
    expect((await tenant.api('GET', `/api/v1/cpo/alert-rules/${ruleId}`)).body.enabled).toBe(false);
    await page.getByRole('button', { name: 'Resume Ground failures, Harbour' }).click();
    await page.locator(`[data-rule="${ruleId}"][data-enabled="yes"]`).waitFor();
    expect((await tenant.api('GET', `/api/v1/cpo/alert-rules/${ruleId}`)).body.enabled).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('creates a webhook endpoint showing its secret once, sends a test and shows the delivery’s status code', async () => {
    const { context, page, problems } = await openPage(browser, { width: 1280, height: 900 });
    await signIn(page, svc.url, tenant.key);
    await page.goto(`${svc.url}/#/alerts`);
    const form = page.getByTestId('endpoint-form');
    await form.waitFor();

    // An unknown event type: the API's message at the Events field.
    await form.getByLabel('URL').fill(receiver.url);
    await form.getByLabel('Events').fill('alert.triggered, nope.happened');
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    await form.locator('#f-webhook-events-err').filter({ hasText: 'unknown event type "nope.happened"' }).waitFor();

    await form.getByLabel('Events').fill('alert.triggered, alert.resolved');
    await form.getByLabel('Description').fill('On-call pager');
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    const secretBox = page.getByTestId('webhook-secret');
    await secretBox.waitFor();
    const secret = await secretBox.getByLabel('Signing secret').inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    const item = page.getByTestId('endpoint-list').locator('li[data-endpoint]').filter({ hasText: receiver.url });
    await item.waitFor();
    const endpointId = (await item.getAttribute('data-endpoint'))!;
    const listed = await tenant.api('GET', '/api/v1/webhooks/endpoints');
    expect(listed.body.endpoints).toEqual([expect.objectContaining({ id: endpointId, url: receiver.url, events: ['alert.triggered', 'alert.resolved'], description: 'On-call pager', status: 'active' })]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(await seriousViolations(page)).toEqual([]);

    // Shown once: after a reload the secret is nowhere on the page, nor kept by the browser.
    await page.reload();
    await item.waitFor();
    expect(await page.getByTestId('webhook-secret').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    expect(await page.evaluate(() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage))).not.toContain(secret);

    // Send a test: the receiver gets a signed test message; its answer is shown and listed.
    await item.getByRole('button', { name: /Deliveries and test/ }).click();
    await item.getByRole('button', { name: /Send test/ }).click();
    const result = item.getByTestId('webhook-test-result');
    await result.locator('[data-status="delivered"][data-code="200"]').waitFor();
    expect(await result.textContent()).toMatch(/Test delivered: HTTP 200 in \d+ ms/);
    await receiver.waitFor((rs) => rs.some((r) => r.json?.event === 'webhook_endpoint.test'));
    const deliveries = item.getByTestId('delivery-list');
    await deliveries.locator('tr[data-status="delivered"] td[data-code="200"]').waitFor();

    // A receiver that fails: the test says so with its status code, and the list shows both.
    receiver.respondWith(() => ({ status: 503 }));
    await item.getByRole('button', { name: /Send test/ }).click();
    await result.locator('[data-status="failed"][data-code="503"]').waitFor();
    expect(await result.textContent()).toContain('Test failed: HTTP 503');
    await deliveries.locator('tr[data-status="failed"] td[data-code="503"]').waitFor();
    expect(await deliveries.locator('tbody tr').count()).toBe(2);
    receiver.respondWith(() => ({ status: 200 }));
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('heading', { level: 1 }).scrollIntoViewIfNeeded();
    await screenshot(page, 'alerts');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('stays usable at tablet width (768 px): no sideways scrolling, deliveries open', async () => {
    const { context, page, problems } = await openPage(browser, { width: 768, height: 1024 });
    await signIn(page, svc.url, tenant.key);
    await page.goto(`${svc.url}/#/alerts`);
    await page.getByTestId('alert-list').waitFor();
    await page.getByTestId('rule-list').waitFor();
    const item = page.getByTestId('endpoint-list').locator('li[data-endpoint]').first();
    await item.getByRole('button', { name: /Deliveries and test/ }).click();
    await item.getByTestId('delivery-list').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the list when every answer is slower than the live refresh: a refresh never cancels a load under way', async () => {
    const { context, page, problems } = await openPage(browser);
    // No stream, so the page refreshes every 5 s (POLL_MS); each answer of the list takes 6 s.
    await page.route('**/api/v1/cpo/events*', (route) => route.abort());
    await page.route('**/api/v1/cpo/alerts?*', async (route) => {
      await new Promise((r) => setTimeout(r, 6_000));
      await route.continue().catch(() => {}); // the page may have moved on
    });
    await signIn(page, svc.url, tenant.key);
    await page.goto(`${svc.url}/#/alerts`);
    await page.getByTestId('alert-list').locator('tbody tr').first().waitFor({ timeout: 20_000 });
    // The aborted stream is logged by the browser as a failed request; nothing else may be.
    expect(problems.filter((p) => !/api\/v1\/cpo\/events|ERR_FAILED/.test(p))).toEqual([]);
    await context.close();
  });

  it('a key that may only read alerts sees the rules but no controls to change them, and why; webhooks say which scope they need', async () => {
    const reader = await aTenantKey(['read:alerts', 'read:charge_points', 'read:sites']);
    const { context, page, problems } = await openPage(browser);
    await signIn(page, svc.url, reader);
    await page.goto(`${svc.url}/#/alerts`);
    await page.getByTestId('rule-list').locator('tbody tr').filter({ hasText: 'Harbour faults' }).waitFor();
    expect(await page.getByRole('button', { name: /^(Edit|Pause|Resume) / }).count()).toBe(0);
    await page.getByText('Disabled: your API key lacks the scope write:alerts.').waitFor();
    expect(await page.getByTestId('rule-form').getByRole('button', { name: 'Create rule' }).isDisabled()).toBe(true);
    await page.locator('#webhooks-h').locator('xpath=ancestor::section').getByText('it lacks the scope write:webhooks').waitFor();
    expect(await page.getByTestId('endpoint-form').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  /** Another key of the same tenant, with only these scopes. */
  async function aTenantKey(scopes: string[]): Promise<string> {
    const admin = apiClient(svc.url, ADMIN_KEY);
    const k = await admin('POST', `/api/v1/admin/tenants/${tenant.tenantId}/api-keys`, { body: { name: 'reader', scopes } });
    expect(k.status).toBe(201);
    return k.body.key;
  }
});
