import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { onTestFailed } from 'vitest';
import { eventually } from './history.js';

/**
 * Browser tests drive Debian's Chromium through playwright-core (never a downloaded browser).
 * `.ci/run` installs it when missing; CHROMIUM_PATH points elsewhere.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`browser tests need Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 60_000 });
}

/** A tablet-sized page (the smallest width the dashboard supports) that fails the test on any page error. */
export async function openPage(browser: Browser, opts: { width?: number; height?: number } = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1024, height: opts.height ?? 900 }, locale: 'en-GB', timezoneId: 'UTC' });
  // A loaded 2-core machine: generous, never timed assertions.
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    // A CSP refusal or an uncaught error shows up here; 4xx answers the page expects do too, and are fine.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('crash', () => problems.push('page crashed'));
  // A browser test that fails on a busy CI machine is seldom reproduced at a desk: say what the page
  // showed and heard at that moment, and keep a screenshot of it.
  onTestFailed(async ({ task }) => {
    if (page.isClosed()) return;
    const shot = join(FAILURE_DIR, `${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}.png`);
    await mkdir(FAILURE_DIR, { recursive: true });
    const [text] = await Promise.all([
      page.locator('body').innerText({ timeout: 2_000 }).catch((e) => `(no text: ${e})`),
      page.screenshot({ path: shot, fullPage: true, timeout: 5_000 }).catch(() => undefined),
    ]);
    console.error(`browser test failed at ${page.url()}\nproblems: ${JSON.stringify(problems)}\npage text: ${text.slice(0, 2_000)}\nscreenshot: ${shot}`);
  });
  return { context, page, problems };
}

const FAILURE_DIR = join(process.cwd(), 'test-results', 'failures');

export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core on the page as it is now: the serious and critical violations (WCAG 2.x A/AA rules). */
export async function seriousViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  // Evaluated by the test driver, not loaded as a script, so the page's CSP stays as strict as served.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<any> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
  });
  return (result.violations as any[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => n.target.join(' ')).slice(0, 5) }));
}

/** Where the test run saves screenshots (the README embeds the copies in docs/screenshots). */
export const SCREENSHOT_DIR = process.env.DYNAMO_SCREENSHOT_DIR ?? join(process.cwd(), 'test-results', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The trimmed text of a locator once `ok` holds for it (the dashboard refreshes itself; no reload). */
export async function textEventually(page: Page, selector: string, ok: (text: string) => boolean, timeoutMs = 30_000): Promise<string> {
  return eventually(async () => ((await page.locator(selector).first().textContent({ timeout: 5_000 }).catch(() => '')) ?? '').trim(), ok, timeoutMs);
}
