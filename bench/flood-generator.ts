// A separate process for bench/flood.ts, in one of two roles, steered by lines on stdin and
// reporting JSON lines on stdout:
//  --role victims: K OCPP 1.6 chargers, each sending StatusNotification, Heartbeat and MeterValues
//    in a closed loop (the next CALL once the last is answered). "baseline" runs them for S seconds
//    (after an unreported warm-up of 3 s); "flood" runs them until "stop <s>" arrives and at least
//    S seconds have passed, and reports the CALLs sent in the first <s> seconds (while the flood
//    was being answered) apart as well.
//  --role flooder: one raw `ws` socket that, on "go", writes F StatusNotification CALLs back to
//    back without waiting, then counts the answers (CALLRESULT, CALLERROR by code) until all are in.
import WebSocket from 'ws';
import { createInterface } from 'node:readline';
import { benchArgs } from './args.js';
import { percentile, SimCharger } from './sim-charger.js';

const a = benchArgs();
const URL_ = a.get('url')!;
const ROLE = a.get('role');
const SECONDS = Number(a.get('seconds') ?? 10);
const WARMUP_SECONDS = Number(a.get('warmup') ?? 3);
const CALL_TIMEOUT_MS = Number(a.get('call-timeout') ?? 60) * 1000;

const commands = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextCommand = async () => {
  const c = await commands.next();
  return c.done ? 'stop' : c.value.trim();
};
const report = (m: object) => process.stdout.write(JSON.stringify(m) + '\n');

const stats = (lat: number[]) => {
  lat.sort((x, y) => x - y);
  return { n: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.length ? lat[lat.length - 1]! : NaN };
};

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() => clearTimeout(timer));
}

async function victims() {
  const K = Number(a.get('victims') ?? 50);
  const prefix = a.get('prefix') ?? 'VICTIM-';
  const chargers = Array.from({ length: K }, (_, i) => new SimCharger(`${prefix}${i}`, URL_, 'ocpp1.6'));
  let failed = 0;
  await Promise.all(
    chargers.map(async (c) => {
      try {
        await c.connect();
        await c.boot([]);
        await c.status('Available', []);
      } catch {
        failed++;
      }
    }),
  );
  report({ phase: 'connected', held: chargers.filter((c) => c.ws?.readyState === WebSocket.OPEN).length, failed });

  const energy = new Map<SimCharger, number>();
  let step = 0;
  /** One CALL of the cycle StatusNotification (Available/Preparing in turn), Heartbeat, MeterValues. */
  const send = (c: SimCharger): [string, Promise<unknown>] => {
    const s = step++ % 3;
    const timestamp = new Date().toISOString();
    if (s === 0) return ['StatusNotification', c.status(step % 2 ? 'Preparing' : 'Available', [])];
    if (s === 1) return ['Heartbeat', c.call('Heartbeat', {}, [])];
    const wh = (energy.get(c) ?? 0) + 30;
    energy.set(c, wh);
    return ['MeterValues', c.call('MeterValues', { connectorId: 1, meterValue: [{ timestamp, sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] }, [])];
  };

  /**
   * Every victim loops until `done()`; each CALL waits at most CALL_TIMEOUT_MS. Resolves to a report
   * maker: given a window (seconds from the phase start), it adds the figures of the CALLs sent within it.
   */
  const loop = async (done: () => boolean) => {
    const calls: { action: string; at: number; ms: number }[] = [];
    let errors = 0;
    let timeouts = 0;
    const t0 = performance.now();
    await Promise.all(
      chargers.map(async (c) => {
        while (!done()) {
          if (c.ws?.readyState !== WebSocket.OPEN) {
            errors++;
            await c.connect().catch(() => new Promise((r) => setTimeout(r, 100)));
            continue;
          }
          const sentAt = performance.now();
          try {
            const [action, answer] = send(c);
            await withTimeout(answer, CALL_TIMEOUT_MS);
            calls.push({ action, at: sentAt - t0, ms: performance.now() - sentAt });
          } catch (err) {
            errors++;
            if ((err as Error).message === 'timeout') timeouts++;
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const byAction: Record<string, number[]> = {};
    for (const c of calls) (byAction[c.action] ??= []).push(c.ms);
    return (phase: string, windowSeconds?: number) => {
      const within = windowSeconds === undefined ? undefined : calls.filter((c) => c.at <= windowSeconds * 1000).map((c) => c.ms);
      report({
        phase,
        seconds,
        messages: calls.length,
        rate: calls.length / seconds,
        ...stats(calls.map((c) => c.ms)),
        errors,
        timeouts,
        byAction: Object.fromEntries(Object.entries(byAction).map(([k, v]) => [k, stats(v)])),
        ...(within ? { window: { seconds: windowSeconds, ...stats(within) } } : {}),
      });
    };
  };

  if ((await nextCommand()) !== 'baseline') process.exit(1);
  // Unreported warm-up first, so the baseline is not the cold start of the server and generator.
  const warm = performance.now() + WARMUP_SECONDS * 1000;
  await loop(() => performance.now() >= warm);
  const until = performance.now() + SECONDS * 1000;
  (await loop(() => performance.now() >= until))('baseline');

  // "flood", then "stop <seconds the flood took to be answered>": the window reported apart.
  if ((await nextCommand()) !== 'flood') process.exit(1);
  const minUntil = performance.now() + SECONDS * 1000;
  let stop: string | undefined;
  void nextCommand().then((c) => (stop = c));
  const reportFlood = await loop(() => stop !== undefined && performance.now() >= minUntil);
  const window = Number(stop!.split(' ')[1]);
  reportFlood('flood', Number.isFinite(window) ? window : undefined);
  for (const c of chargers) c.ws?.terminate();
  process.exit(0);
}

async function flooder() {
  const F = Number(a.get('flood') ?? 20_000);
  const id = a.get('id') ?? 'FLOOD-0';
  const timeoutMs = Number(a.get('timeout') ?? 120) * 1000;
  const ws = new WebSocket(`${URL_}/${id}`, ['ocpp1.6'], { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
  });
  const timestamp = new Date().toISOString();
  const frames = Array.from({ length: F }, (_, i) =>
    JSON.stringify([2, `f${i}`, 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: i % 2 ? 'Available' : 'Preparing', timestamp }]),
  );
  report({ phase: 'connected' });
  if ((await nextCommand()) !== 'go') process.exit(1);

  const answered = new Set<string>();
  const outcomes: Record<string, number> = {};
  let lastResultAt = NaN;
  let firstErrorAt = NaN;
  let t0 = 0;
  let closed: string | undefined;
  const done = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const f = JSON.parse(String(data));
      if ((f[0] !== 3 && f[0] !== 4) || answered.has(f[1])) return;
      answered.add(f[1]);
      const now = performance.now() - t0;
      const outcome = f[0] === 3 ? 'CALLRESULT' : String(f[2]);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (f[0] === 3) lastResultAt = now;
      else if (Number.isNaN(firstErrorAt)) firstErrorAt = now;
      if (answered.size === F) resolve();
    });
    ws.on('close', (code, reason) => {
      closed = `${code} ${reason}`;
      resolve();
    });
    setTimeout(resolve, timeoutMs).unref();
  });
  t0 = performance.now();
  for (const frame of frames) ws.send(frame);
  const writtenSeconds = (performance.now() - t0) / 1000;
  await done;
  const seconds = (performance.now() - t0) / 1000;
  report({
    phase: 'flood',
    sent: F,
    writtenSeconds,
    answered: answered.size,
    unanswered: F - answered.size,
    allAnsweredSeconds: answered.size === F ? seconds : NaN,
    /** Until all were answered, the socket closed or the timeout. */
    endedSeconds: seconds,
    lastResultSeconds: lastResultAt / 1000,
    firstErrorSeconds: firstErrorAt / 1000,
    outcomes,
    closed,
  });
  ws.terminate();
  process.exit(0);
}

if (ROLE === 'victims') void victims();
else if (ROLE === 'flooder') void flooder();
else {
  process.stderr.write('--role victims|flooder\n');
  process.exit(2);
}
