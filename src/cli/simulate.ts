import cliProgress from 'cli-progress';
import { SimulatedFleet, type FleetOptions } from '../sim/fleet.js';

export interface SimulateOptions extends FleetOptions {
  durationSeconds?: number;
  site?: string;
  apiKey?: string;
}

/** Parses 90, 90s, 15m, 2h into seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}" (use 90s, 15m or 2h)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

/**
 * With --site and --api-key (a Dynamo CSMS), registers the fleet's identities
 * through the REST API first; against any other CSMS, register them there.
 */
async function register(o: SimulateOptions, fleet: SimulatedFleet): Promise<void> {
  if (!o.site || !o.apiKey) return;
  const base = o.url.replace(/^ws/, 'http').replace(/\/ocpp(\/.*)?$/, '');
  for (const c of fleet.chargers) {
    const identity = c.identity;
    const r = await fetch(`${base}/api/v1/cpo/chargers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ charge_point_id: identity, site_id: o.site, ...(o.password ? { password: o.password } : {}) }),
    });
    if (r.status !== 201 && r.status !== 409) throw new Error(`registering ${identity}: HTTP ${r.status} ${await r.text()}`);
  }
}

/** `dynamo simulate`: runs the fleet until --duration or Ctrl-C, with live counters. */
export async function simulate(o: SimulateOptions): Promise<void> {
  const fleet = new SimulatedFleet(o);
  process.stdout.write(`simulating ${o.chargers} chargers (OCPP ${o.ocpp}, seed ${o.seed}, speed ×${o.speed}) against ${o.url}\n`);
  await register(o, fleet);
  const tty = process.stdout.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: 'connected {bar} {value}/{total} | charging {charging} | sessions {sessions} | faults {faults} | {rate} msg/s | errors {errors}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(o.chargers, 0, { charging: 0, sessions: 0, faults: 0, rate: 0, errors: 0 });
  let lastMessages = 0;
  let lastAt = Date.now();
  const report = () => {
    const c = fleet.counters();
    const now = Date.now();
    const rate = Math.round(((c.messages - lastMessages) * 1000) / Math.max(1, now - lastAt));
    lastMessages = c.messages;
    lastAt = now;
    if (bar) bar.update(c.connected, { charging: c.charging, sessions: c.sessions, faults: c.faults, rate, errors: c.errors });
    else process.stdout.write(`connected ${c.connected}/${c.chargers} charging ${c.charging} sessions ${c.sessions} faults ${c.faults} drops ${c.drops} ${rate} msg/s errors ${c.errors}\n`);
  };
  const ticker = setInterval(report, tty ? 1000 : 5000);

  let finish: () => void = () => {};
  const done = new Promise<void>((r) => (finish = r));
  process.once('SIGINT', finish);
  process.once('SIGTERM', finish);
  const timer = o.durationSeconds ? setTimeout(finish, o.durationSeconds * 1000) : undefined;
  void fleet.start();
  await done;
  clearTimeout(timer);
  clearInterval(ticker);
  report();
  bar?.stop();
  await fleet.stop();
  const c = fleet.counters();
  process.stdout.write(`done: ${c.messages} messages, ${c.sessions} sessions, ${c.faults} faults, ${c.drops} reconnects, ${c.errors} errors\n`);
}
