// A separate process that drives N OCPP 1.6 chargers over real sockets and
// reports what it measured as one JSON line. Used by bench/ingest.ts.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { benchArgs } from './args.js';
import { percentile, SimCharger } from './sim-charger.js';

const LOOP_RESOLUTION_MS = 10;

interface Options {
  /** One URL, or several separated by commas: charger i connects to the (i mod n)th (a cluster's nodes). */
  url: string;
  chargers: number;
  prefix: string;
  connectRate: number;
  maxSeconds: number;
  halfSeconds: number;
  halfRate?: number;
  /** 1.6, 2.0.1, 2.1, or mixed (a third each). */
  ocpp: string;
  /** Phases to run after connecting: max, half, half-dashboard, storm (default all). */
  phases: Set<string>;
  /** A pause between connecting and the max phase, announced by a 'settled' line. */
  settleSeconds: number;
  /** A pause between the max phase and the half-rate ones: what saturation left behind (backlogs, vacuum) is worked off first. */
  recoverSeconds: number;
  /**
   * Seconds at the same rate before each half-rate phase's measured seconds, their answers not
   * counted: the latency of a fleet already talking, not of the step from silence to the rate.
   */
  warmupSeconds: number;
  /** Every charger starts its cycle at the first step (the generator before 2026-12-03): the fleet's message mix sweeps through the cycle. */
  lockstep: boolean;
  /** The first charger's number (ids prefix+first …): several generators drive one fleet, each its own range. */
  first: number;
  /**
   * Before each phase after connecting, print a 'waiting' line and wait for a line on stdin: an
   * orchestrator running several generators starts their phases together (bench/large-fleet.ts).
   */
  sync: boolean;
}

function parseArgs(): Options {
  const a = benchArgs();
  return {
    url: a.get('url')!,
    chargers: Number(a.get('chargers') ?? 1000),
    prefix: a.get('prefix') ?? 'BENCH-',
    connectRate: Number(a.get('connect-rate') ?? 2000),
    maxSeconds: Number(a.get('max-seconds') ?? 15),
    halfSeconds: Number(a.get('half-seconds') ?? 15),
    halfRate: a.has('half-rate') ? Number(a.get('half-rate')) : undefined,
    ocpp: a.get('ocpp') ?? '1.6',
    phases: new Set((a.get('phases') ?? 'max,half,half-dashboard,storm').split(',')),
    settleSeconds: Number(a.get('settle-seconds') ?? 0),
    recoverSeconds: Number(a.get('recover-seconds') ?? 0),
    warmupSeconds: Number(a.get('warmup-seconds') ?? 0),
    lockstep: a.get('lockstep') === 'true',
    first: Number(a.get('first') ?? 0),
    sync: a.get('sync') === 'true',
  };
}

/** Prints the first few failures of a phase, so a run with errors says what failed (by charger and protocol). */
function firstFailures(phase: string, shown = 5): (what: string) => void {
  let n = 0;
  return (what) => void (++n <= shown && process.stderr.write(`${phase}: ${what}\n`));
}

/**
 * Connections the kernel dropped because a listening socket's accept queue was full (Linux,
 * TcpExt ListenOverflows, machine-wide: on a bench machine, the server's): NaN where unknown.
 */
async function listenOverflows(): Promise<number> {
  const text = await readFile('/proc/net/netstat', 'utf8').catch(() => '');
  const [names, values] = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const i = names?.split(/\s+/).indexOf('ListenOverflows') ?? -1;
  return i > 0 ? Number(values?.split(/\s+/)[i]) : NaN;
}

/** The closed loop: every charger sends its next message as soon as the last is answered, for `seconds`; reports it, returns the rate. */
async function maxPhase(chargers: SimCharger[], seconds: number): Promise<number> {
  const maxLat: number[] = [];
  let maxMessages = 0;
  let errors = 0;
  const maxFailure = firstFailures('max phase');
  const until = performance.now() + seconds * 1000;
  const tMax = performance.now();
  await Promise.all(
    chargers.map(async (c) => {
      while (performance.now() < until) {
        try {
          const n = await c.next(maxLat);
          maxMessages += n;
        } catch (err) {
          errors++;
          maxFailure(`${c.id} (${c.protocol}): ${(err as Error).message}`);
          if (c.ws?.readyState !== WebSocket.OPEN) await c.connect().catch(() => undefined);
        }
      }
    }),
  );
  const maxRate = maxMessages / ((performance.now() - tMax) / 1000);
  maxLat.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ phase: 'max', messages: maxMessages, rate: maxRate, p50: percentile(maxLat, 50), p99: percentile(maxLat, 99), errors }) + '\n');
  return maxRate;
}

/** How long the storm's chargers keep retrying before one counts as failed. */
const STORM_DEADLINE_MS = 120_000;

/** With --sync, the lines the orchestrator writes to stdin, one per phase it starts (read only then). */
let orders: AsyncIterator<string> | undefined;

/** With --sync: says which phase is next and waits for the orchestrator's go. */
async function whenToldTo(o: Options, next: string): Promise<void> {
  if (!o.sync) return;
  orders ??= createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  process.stdout.write(JSON.stringify({ phase: 'waiting', next }) + '\n');
  await orders.next();
}

async function main() {
  const o = parseArgs();
  const versions = o.ocpp === 'mixed' ? ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'] : [`ocpp${o.ocpp}`];
  const urls = o.url.split(',');
  const chargers = Array.from({ length: o.chargers }, (_, k) => {
    const i = o.first + k;
    return new SimCharger(`${o.prefix}${i}`, urls[i % urls.length]!, versions[i % versions.length]!);
  });
  const bootLat: number[] = [];

  // Phase 1: connect and boot every charger at a bounded ramp rate.
  const t0 = performance.now();
  let failed = 0;
  const batch = Math.max(1, Math.round(o.connectRate / 10));
  for (let i = 0; i < chargers.length; i += batch) {
    const slice = chargers.slice(i, i + batch);
    const tick = performance.now();
    await Promise.all(
      slice.map(async (c) => {
        try {
          await c.connect();
          await c.boot(bootLat);
          await c.status('Available', bootLat);
        } catch {
          failed++;
        }
      }),
    );
    const wait = 100 - (performance.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const connectSeconds = (performance.now() - t0) / 1000;

  // A real fleet is not in step. Chargers that all begin their cycle at its first step and are driven
  // at one pace send the same message at the same time: at half rate the fleet sent only session starts
  // and status changes for a couple of seconds, then only meter values, and the latency came in waves
  // (docs/benchmarks.md). Charger i first goes through i mod CYCLE steps, unmeasured.
  // Idle connections, as the RSS per connection is stated: measured by the orchestrator at this line.
  process.stdout.write(JSON.stringify({ phase: 'joined', held: chargers.filter((c) => c.ws?.readyState === WebSocket.OPEN).length }) + '\n');
  const tPreroll = performance.now();
  if (!o.lockstep) {
    await Promise.all(
      chargers.map(async (c, i) => {
        for (let k = 0; k < i % SimCharger.CYCLE; k++) await c.next([]).catch(() => undefined);
      }),
    );
  }
  const prerollSeconds = (performance.now() - tPreroll) / 1000;
  const held = chargers.filter((c) => c.ws?.readyState === WebSocket.OPEN).length;
  process.stdout.write(JSON.stringify({ phase: 'connected', held, failed, connectSeconds, prerollSeconds }) + '\n');
  if (o.settleSeconds > 0) {
    await new Promise((r) => setTimeout(r, o.settleSeconds * 1000));
    process.stdout.write(JSON.stringify({ phase: 'settled', seconds: o.settleSeconds }) + '\n');
  }

  // Phase 2: closed loop, every charger sends its next message as soon as the last is answered.
  if (o.phases.has('max')) await whenToldTo(o, 'max');
  const maxRate = o.phases.has('max') ? await maxPhase(chargers, o.maxSeconds) : NaN;

  // Phase 3 and 4: open loop at a fixed rate (default: half the measured maximum); latency at that
  // load, first alone, then while the orchestrator runs a dashboard query loop against the server.
  const rate = o.halfRate ?? maxRate / 2;
  if (!Number.isFinite(rate) && (o.phases.has('half') || o.phases.has('half-dashboard'))) throw new Error('the half-rate phases need the max phase or --half-rate');
  if (o.recoverSeconds > 0) await new Promise((r) => setTimeout(r, o.recoverSeconds * 1000));
  for (const name of ['half', 'half-dashboard'].filter((p) => o.phases.has(p))) {
    await whenToldTo(o, name);
    const lat: number[] = [];
    let skipped = 0;
    let errs = 0;
    // Sending starts at `begin`; what is answered before `start` (the warm-up) is not counted, as in the preroll.
    const begin = performance.now();
    const start = begin + o.warmupSeconds * 1000;
    const end = start + o.halfSeconds * 1000;
    let cursor = 0;
    const inflight = new Set<Promise<void>>();
    // This process's own stalls delay every answer it times: reported beside the latencies.
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    // Its own collections, one by one: a pause of 50 ms every few seconds is under 1 % of the loop's
    // samples, so the loop's p99 does not show it, yet it delays every answer that arrives meanwhile.
    const pauses: { at: number; ms: number }[] = [];
    const gc = new PerformanceObserver((list) => void pauses.push(...list.getEntries().map((e) => ({ at: e.startTime, ms: e.duration }))));
    // Answers are pushed as they arrive: where the count stood at each whole second splits them by second.
    const secondMarks: number[] = [0];
    let measuring = false;
    // Chargers asked so far, warm-up included: the pace is kept across the start of the measurement.
    let dispatched = 0;
    while (performance.now() < end) {
      if (!measuring && performance.now() >= start) {
        measuring = true;
        loop.enable();
        gc.observe({ entryTypes: ['gc'] });
      }
      if (measuring && performance.now() - start >= secondMarks.length * 1000) secondMarks.push(lat.length);
      const due = Math.floor(((performance.now() - begin) / 1000) * rate);
      while (dispatched < due) {
        dispatched++;
        const c = chargers[cursor++ % chargers.length]!;
        if (c.busy || c.ws?.readyState !== WebSocket.OPEN) {
          if (measuring) skipped++;
          continue;
        }
        c.busy = true;
        const p: Promise<void> = c.next(measuring ? lat : []).then(
          () => void (c.busy = false),
          () => void ((c.busy = false), errs++),
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(inflight);
    loop.disable();
    gc.disconnect();
    secondMarks.push(lat.length);
    // The tail second by second: a few bad seconds (something periodic) or spread evenly (steady queueing).
    const p99BySecond = secondMarks.slice(1).map((to, i) => Math.round(percentile(lat.slice(secondMarks[i], to).sort((a, b) => a - b), 99)));
    lat.sort((a, b) => a - b);
    // The histogram holds each tick's interval, the resolution included: the delay is what is past it.
    const loopP99 = Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS);
    const loopMax = Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS);
    const long = pauses.filter((p) => p.ms > 10);
    const ownGc = {
      count: pauses.length,
      totalMs: Math.round(pauses.reduce((a, p) => a + p.ms, 0)),
      maxMs: Math.round(Math.max(0, ...pauses.map((p) => p.ms))),
      // The second of the phase each pause over 10 ms began in, beside p99BySecond.
      over10MsInSecond: long.map((p) => Math.floor((p.at - start) / 1000)),
    };
    process.stdout.write(JSON.stringify({ phase: name, target: rate, achieved: lat.length / o.halfSeconds, p50: percentile(lat, 50), p99: percentile(lat, 99), loopP99, loopMax, ownGc, p99BySecond, skipped, errors: errs }) + '\n');
  }

  if (!o.phases.has('storm')) {
    for (const c of chargers) c.ws?.terminate();
    process.exit(0);
  }
  // Phase 5, connection storm: every socket drops at once, then every charger reconnects and boots at
  // once (no ramp): the time until all are back and answered.
  await whenToldTo(o, 'storm');
  for (const c of chargers) c.ws?.terminate();
  await new Promise((r) => setTimeout(r, 500));
  const stormLat: number[] = [];
  const tStorm = performance.now();
  // As real chargers do, a refused or failed attempt is retried after a randomised backoff (1 s, 2 s,
  // … 30 s); a charger that is not back and booted within STORM_DEADLINE_MS has failed.
  let stormFailed = 0;
  let stormRetries = 0;
  const stormFailure = firstFailures('storm');
  const deadline = tStorm + STORM_DEADLINE_MS;
  const backAt: number[] = [];
  const overflowsBefore = await listenOverflows();
  await Promise.all(
    chargers.map(async (c) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await c.connect();
          await c.boot(stormLat);
          backAt.push((performance.now() - tStorm) / 1000);
          return;
        } catch (err) {
          c.ws?.terminate();
          stormFailure(`${c.id} (${c.protocol}) attempt ${attempt + 1} after ${Math.round(performance.now() - tStorm)} ms: ${(err as Error).message}`);
          const wait = Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);
          if (performance.now() + wait > deadline) {
            stormFailed++;
            return;
          }
          stormRetries++;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    }),
  );
  const stormSeconds = (performance.now() - tStorm) / 1000;
  backAt.sort((a, b) => a - b);
  const overflows = (await listenOverflows()) - overflowsBefore;
  process.stdout.write(
    JSON.stringify({ phase: 'storm', seconds: stormSeconds, reconnected: chargers.length - stormFailed, failed: stormFailed, retries: stormRetries, backP50: percentile(backAt, 50), backP90: percentile(backAt, 90), listenOverflows: overflows }) + '\n',
  );

  for (const c of chargers) c.ws?.terminate();
  process.exit(0);
}

void main();
