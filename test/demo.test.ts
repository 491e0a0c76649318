import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './support/cli.js';
import { apiClient } from './support/http.js';

/** `npm run demo` runs `dynamo demo`: started for real, read through the API, stopped with Ctrl-C. */
describe('demo mode', () => {
  it('backfills history every fleet endpoint reports on, runs a live fleet, and stops cleanly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dynamo-demo-'));
    const child = spawn(process.execPath, [CLI, 'demo'], { env: { PATH: process.env.PATH!, DYNAMO_DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`demo did not start:\n${out}`)), 60_000);
        child.stdout.on('data', () => /Ctrl-C/.test(out) && (clearTimeout(timer), resolve()));
      });
      const url = /running on (http\S+)/.exec(out)![1]!;
      const key = /API key:\s+(\S+)/.exec(out)![1]!;
      expect(out).toContain(`curl -s ${url}/api/v1/cpo/fleet/summary`);
      // The dashboard is served where the demo says, and the printed key signs in to it.
      expect(out).toContain(`Dashboard: ${url}/`);
      const index = await fetch(`${url}/`);
      expect(index.status).toBe(200);
      expect(await index.text()).toContain('<div id="app">');
      const api = apiClient(url, key);
      const to = new Date().toISOString();
      const from = new Date(Date.now() - 30 * 86_400_000).toISOString();
      const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

      expect((await api('GET', '/api/v1/cpo/fleet/summary')).body.total_chargers).toBe(30);
      const uptime = await api('GET', `/api/v1/cpo/fleet/uptime?${q}`);
      expect(uptime.body.chargers).toHaveLength(30);
      expect(uptime.body.chargers.some((c: any) => c.downtime_minutes > 0)).toBe(true);
      const util = await api('GET', `/api/v1/cpo/fleet/utilisation?${q}`);
      expect(util.body.chargers[0].buckets.some((b: any) => b.utilisation_percent > 0)).toBe(true);
      const errors = (await api('GET', `/api/v1/cpo/fleet/errors?${q}&limit=1000`)).body;
      expect(errors.total).toBeGreaterThan(0);
      // Demo history looks like what chargers report: ids as ingest makes them (evt_ and a ULID of
      // the event's time), info texts a charger would send, varied (the live fleet's too).
      for (const e of errors.errors) {
        expect(e.event_id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
        const ms = [...e.event_id.slice(4, 14)].reduce((n: number, ch: string) => n * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(ch), 0);
        expect(ms - Date.parse(e.timestamp)).toBeGreaterThanOrEqual(0);
        expect(ms - Date.parse(e.timestamp)).toBeLessThan(1000);
        expect(typeof e.info).toBe('string');
        expect(e.info).not.toMatch(/synthetic|bench|test/i);
        expect(e.info.length).toBeLessThanOrEqual(50); // what OCPP 1.6 StatusNotification.info allows
      }
      expect(new Set(errors.errors.map((e: any) => e.event_id)).size).toBe(errors.errors.length);
      expect(new Set(errors.errors.map((e: any) => e.info)).size).toBeGreaterThan(10);
      expect((await api('GET', '/api/v1/cpo/fleet/chargers')).body.total).toBe(30);
      const d = await api('GET', '/api/v1/cpo/chargers/DEMO-00001/diagnostics');
      expect(d.body.connectors.length).toBeGreaterThan(0);
      expect(d.body.uptime_30d_percent).toBeGreaterThan(50);
      expect((await api('GET', `/api/v1/cpo/chargers/DEMO-00001/connectivity?${q}`)).body.events.length).toBeGreaterThan(2);
      expect((await api('GET', '/api/v1/cpo/chargers/DEMO-00001/error-history')).body.total).toBeGreaterThan(0);
      // The live fleet connects to the demo service.
      let online = 0;
      for (let i = 0; i < 50 && online === 0; i++) {
        online = (await api('GET', '/api/v1/cpo/fleet/summary')).body.online;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(online).toBeGreaterThan(0);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
