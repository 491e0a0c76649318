// npm run bench:ingest — the OCPP ingest benchmark (docs/benchmarks.md).
// For each target (bare ws echo, Dynamo on PGlite, Dynamo on PostgreSQL) it
// starts the server as its own process, drives N chargers from a separate
// load-generator process over real sockets, and reports connections held,
// sustained durable messages/s, answer latency and RSS per connection.
import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { reachable, withClient } from './throwaway-database.js';
import { cpuTimes, rssMiB, SERVE_ENV, serverEnvOfRun, startLoadGenerator, startProcess, stopProcess } from './server-process.js';
import { BENCH_PG_URL as PG_URL, benchFleetDatabase } from './bench-fleet.js';
import { insertApiKey } from '../src/store/api-keys.js';
import { generateApiKey, hashApiKey } from '../src/security/secrets.js';
import { benchArgs } from './args.js';
import { attachListeners, bucketDelta, bucketsOf, byLabel, fetchMetrics, LISTENER_ENV, scrape, sumOf, type Listeners } from './listeners.js';
import { writeResult } from './results.js';
import { median, startSpeedProbe } from './machine-speed.js';

const args = benchArgs();
const N = Number(args.get('chargers') ?? 19_000);
const MAX_SECONDS = Number(args.get('max-seconds') ?? 20);
const HALF_SECONDS = Number(args.get('half-seconds') ?? 20);
// Between connecting and the max phase: PostgreSQL is checkpointed and what connecting left to do
// (events of 2,000 boots to stream and deliver) settles, so no phase starts with more of either
// than another (--settle-seconds; 0 starts the max phase at once).
const SETTLE_SECONDS = Number(args.get('settle-seconds') ?? 5);
// Between the max phase and the half-rate ones (--recover-seconds; 0, the default, starts them at once,
// while the server still works off what the saturated phase left behind).
const RECOVER_SECONDS = Number(args.get('recover-seconds') ?? 0);
// --lockstep true: every simulated charger starts its cycle at the first step, as the generator did before 2026-12-03.
const LOCKSTEP = args.get('lockstep') === 'true';
// --phases storm (or any of max,half,half-dashboard,storm): run only those after connecting; the storm
// alone takes a few minutes at 19,000 chargers where the whole run takes ten.
const PHASES = args.get('phases') ?? 'max,half,half-dashboard,storm';
// --half-rate R: the half-rate phases at R msg/s instead of half the measured maximum (with --phases
// half, a steady rate with no backlog from a max phase before it).
const HALF_RATE = args.get('half-rate');
// postgres-log-off: the same as postgres with the raw message log off (DYNAMO_MESSAGE_LOG=false), the
// baseline of the log's cost measured in the same run (docs/benchmarks.md).
const TARGETS = (args.get('targets') ?? 'echo,pglite,postgres-log-off,postgres').split(',');
const OCPP = args.get('ocpp') ?? '1.6';
// Listeners (docs/benchmarks.md "Ingest with listeners"): with --webhooks N and/or --sse M every Dynamo
// target is measured twice in this run, without and with N webhook endpoints and M stream clients attached; --rounds 2 runs
// without, with, with, without (ABBA) so drift of a shared machine cancels out.
const WEBHOOKS = Number(args.get('webhooks') ?? 0);
// --sse M attaches M live-event-stream clients in the same "with" runs.
const SSE = Number(args.get('sse') ?? 0);
const LISTENING = WEBHOOKS > 0 || SSE > 0;
const ROUNDS = Number(args.get('rounds') ?? 1);
const ROOT = new URL('../../', import.meta.url).pathname;

interface Result {
  target: string;
  /** Webhook endpoints attached during this run (0: the baseline). */
  webhooks: number;
  /** Live-event-stream clients attached during this run. */
  sse: number;
  /** Events each stream client received per second during the max phase (mean over clients). */
  sseRatePerClient?: number;
  /** Stream clients cut off or failed before the end of the run (must be 0). */
  sseEnded?: number;
  /** CPU of the `dynamo serve` process per message during the max phase (ms): the server's own cost. */
  serverCpuMsPerMsg: number;
  /** The part of serverCpuMsPerMsg spent in the kernel on the server's behalf (system time: socket reads and writes). */
  serverSystemMsPerMsg: number;
  /** CPU this bench process (webhook receivers and stream clients) used during the max phase (s): load on the shared machine, not the server's. */
  listenerCpuSeconds: number;
  /** Webhook requests the receivers accepted per second during the max phase. */
  webhookRate?: number;
  /** Webhook requests accepted over the whole run. */
  webhookRequests?: number;
  /** Fleet events written during the max phase (what the endpoints had to deliver, each). */
  eventsDuringMax?: number;
  /** Age of the oldest event still being delivered at the end of the max phase (s). */
  webhookLagAtMaxEnd?: number;
  /** Webhook requests accepted per second during the half-rate phase (ingest with headroom). */
  webhookRateAtHalf?: number;
  /** Delivery lag at the end of the half-rate phases (s): 0 once caught up. */
  webhookLagAtHalfEnd?: number;
  badSignatures?: number;
  held: number;
  failed: number;
  connectSeconds: number;
  maxRate: number;
  maxP50: number;
  maxP99: number;
  halfTarget: number;
  halfRate: number;
  halfP50: number;
  halfP99: number;
  /** The generator's p99 second by second through the half-rate phase (ms): a few bad seconds or the whole phase. */
  halfP99BySecond: number[];
  dashP50: number;
  dashP99: number;
  /** Of the half-rate phase's answers, the share the server gave within 50 ms of the CALL reaching its handler (dynamo_ocpp_answer_seconds). */
  halfServerWithin50ms: number;
  /** The upper bound of the server-side bucket that holds the half-rate phase's 99th percentile (s). */
  halfServerP99Bound: number;
  /** The load generator's own event-loop delay, p99 (ms), during the half-rate phase: latency it adds to every answer it times. */
  halfGeneratorLoopP99: number;
  /** Median of the speed probe (bench/machine-speed.ts) through the max and the half-rate phase, µs. */
  maxProbeUs: number;
  halfProbeUs: number;
  rssBeforeMiB: number;
  rssConnectedMiB: number;
  rssPerConnectionKiB: number;
  dashboardQueries: number;
  errors: number;
  stormSeconds: number;
  stormFailed: number;
  /** Storm attempts refused or failed and retried after a backoff (chargers retry, as real ones do). */
  stormRetries: number;
  /** Seconds into the storm by which half and 90 % of the chargers were back and booted. */
  stormBackP50: number;
  stormBackP90: number;
  /** Connections the kernel dropped during the storm because the accept queue was full (Linux ListenOverflows). */
  stormListenOverflows: number;
  /** Frames the message log wrote and shed during the run (from /metrics), so "on" is shown to have logged. */
  logWritten: number;
  logShed: number;
  /** The same during the half-rate phase alone: more written than the phase's own frames is the max phase's backlog, written beside ingest. */
  halfLogWritten: number;
  halfLogShed: number;
  /** CALLs the server left unanswered on purpose, by reason (dynamo_ocpp_calls_unanswered_total), and its answers that took over 10 s. */
  unanswered: Record<string, number>;
  answersOver10s: number;
}

/** A database with one tenant, one site and N registered chargers, made through the store layer. */
async function prepare(target: 'pglite' | 'postgres', dataDir: string): Promise<{ env: Record<string, string>; key: string; drop: () => Promise<void> }> {
  const { env, drop, extra: key } = await benchFleetDatabase(target, dataDir, N, async (db, { tenantId }) => {
    const { key, prefix } = generateApiKey('tenant');
    await insertApiKey(db, { tenantId, name: 'bench', prefix, keyHash: hashApiKey(key), scopes: ['read:charge_points', 'write:webhooks', 'read:events'] });
    return key;
  });
  return { env, key, drop };
}

/** Writes out every dirty buffer now, so a checkpoint does not fall into a measured phase of one target more than another's. */
async function checkpoint(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
}

async function run(target: string, listening = false): Promise<Result | undefined> {
  const webhooks = listening ? WEBHOOKS : 0;
  const sse = listening ? SSE : 0;
  // A target may name server settings of its own after colons (postgres:DYNAMO_LISTEN_BACKLOG=511): one
  // build measured against itself with one setting changed, in the same run.
  const [kind = target, ...settings] = target.split(':');
  const database = kind.startsWith('postgres') ? 'postgres' : 'pglite';
  const targetEnv = Object.fromEntries(
    settings.map((kv) => {
      const eq = kv.indexOf('=');
      if (eq < 1) throw new Error(`--targets: "${kv}" in "${target}" is not KEY=VALUE`);
      return [kv.slice(0, eq), kv.slice(eq + 1)];
    }),
  );
  const logOff: Record<string, string> = kind.endsWith('-log-off') ? { DYNAMO_MESSAGE_LOG: 'false' } : {};
  if (database === 'postgres' && !(await reachable(PG_URL))) {
    process.stderr.write(`skipping postgres: ${PG_URL} is not reachable (set BENCH_DATABASE_URL)\n`);
    return undefined;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'dynamo-bench-'));
  let prepared: Awaited<ReturnType<typeof prepare>> | undefined;
  let server: { child: ChildProcess; url: string };
  process.stderr.write(`[${target}] preparing ${N} chargers…\n`);
  if (target === 'echo') {
    server = await startProcess([join(ROOT, 'dist/bench/echo-server.js'), '0'], {});
  } else {
    prepared = await prepare(database, dataDir);
    server = await startProcess([join(ROOT, 'dist/src/cli/main.js'), 'serve'], { ...prepared.env, ...SERVE_ENV, ...(LISTENING ? LISTENER_ENV : {}), ...logOff, ...targetEnv });
  }
  const listeners: Listeners | undefined = listening && prepared ? await attachListeners(server.url, prepared.key, { webhooks, sse }) : undefined;
  const marks: Record<string, { requests: number; sseEvents: number; events: number; lag: number }> = {};
  const mark = async (phase: string) => {
    if (!listeners) return;
    marks[phase] = {
      requests: listeners.stats().webhookRequests,
      sseEvents: listeners.stats().sseEvents,
      events: await scrape(server.url, 'dynamo_events_written_total'),
      lag: await scrape(server.url, 'dynamo_webhook_delivery_lag_seconds'),
    };
  };
  const pid = server.child.pid!;
  const rssBefore = await rssMiB(pid);
  const cpuAt: Record<string, { server: number; serverSystem: number; here: number }> = {};
  const cpuMark = async (phase: string) => {
    const u = process.cpuUsage();
    const t = await cpuTimes(pid).catch(() => ({ user: NaN, system: NaN }));
    cpuAt[phase] = { server: t.user + t.system, serverSystem: t.system, here: (u.user + u.system) / 1e6 };
  };
  const wsUrl = target === 'echo' ? server.url.replace('http', 'ws') : `${server.url.replace('http', 'ws')}/ocpp`;
  const gen = startLoadGenerator(['--url', wsUrl, '--chargers', String(N), '--max-seconds', String(MAX_SECONDS), '--half-seconds', String(HALF_SECONDS), '--ocpp', OCPP, '--settle-seconds', String(SETTLE_SECONDS), '--recover-seconds', String(RECOVER_SECONDS), '--lockstep', String(LOCKSTEP), '--phases', PHASES, ...(HALF_RATE ? ['--half-rate', HALF_RATE] : [])], target);
  const phases: Record<string, any> = {};
  let rssConnected = 0;
  let dashboardQueries = 0;
  let stopDashboard = false;
  const dashboard = async () => {
    // A dashboard reading the fleet while chargers talk: ingest must not wait for it.
    while (!stopDashboard && prepared) {
      const r = await fetch(`${server.url}/api/v1/cpo/chargers?limit=1000`, { headers: { authorization: `Bearer ${prepared.key}` } }).catch(() => undefined);
      if (r) {
        await r.arrayBuffer();
        dashboardQueries++;
      }
    }
  };
  let dashboardRun: Promise<void> | undefined;
  // The server's own answer times, scraped as the half-rate phase starts and ends, split the latency
  // the generator sees into the server's part and the rest (the generator's loop, the sockets).
  const answerBuckets: Record<string, Map<number, number>> = {};
  const logAt: Record<string, { written: number; shed: number }> = {};
  // The machine's speed through the max and half-rate phases (bench/machine-speed.ts): this
  // machine's cores change speed within seconds, so a ratio to the echo, run minutes apart, is
  // read beside them.
  let probe: ReturnType<typeof startSpeedProbe> | undefined;
  const probeUs: Record<string, number> = {};
  for await (const m of gen.phases) {
    phases[m.phase] = m;
    // Before the out-of-step preroll: the RSS of idle connections (the 'connected' line comes after it).
    if (m.phase === 'joined') rssConnected = await rssMiB(pid);
    if (m.phase === 'connected' && prepared?.env.DATABASE_URL && SETTLE_SECONDS > 0) await checkpoint(prepared.env.DATABASE_URL);
    // The max phase is measured from when it starts: after the pause, if there is one.
    const phase = m.phase === 'settled' ? 'connected' : m.phase;
    if (phase === 'connected' || phase === 'max') await cpuMark(phase);
    if (phase === 'connected' || phase === 'max' || phase === 'half') {
      const perSecond = probe?.stop() ?? [];
      if (phase !== 'connected') probeUs[phase] = median(perSecond);
      // A new probe for the phase starting now ('connected', then 'settled' if there is a pause: the later wins).
      probe = phase === 'half' ? undefined : startSpeedProbe();
    }
    if (phase === 'connected' || phase === 'max' || phase === 'half' || phase === 'half-dashboard') await mark(phase);
    if (target !== 'echo' && (m.phase === 'max' || m.phase === 'half')) {
      const text = await fetchMetrics(server.url);
      answerBuckets[m.phase] = bucketsOf(text, 'dynamo_ocpp_answer_seconds');
      logAt[m.phase] = { written: sumOf(text, 'dynamo_message_log_written_total'), shed: sumOf(text, 'dynamo_message_log_shed_total') };
    }
    if (m.phase === 'half') dashboardRun = dashboard();
    if (m.phase === 'half-dashboard') stopDashboard = true;
  }
  probe?.stop();
  stopDashboard = true;
  await dashboardRun;
  const listened = listeners?.stats();
  // Read once at the end of the run (the echo has no /metrics).
  const metricsText = target === 'echo' ? '' : await fetchMetrics(server.url).catch(() => '');
  // BENCH_SERVER_METRICS=<file>: the server's /metrics at the end of each run, appended, for reading after it.
  if (process.env.BENCH_SERVER_METRICS) await appendFile(process.env.BENCH_SERVER_METRICS, `# ${target}\n${metricsText}`);
  const logWritten = target === 'echo' ? NaN : sumOf(metricsText, 'dynamo_message_log_written_total');
  const logShed = target === 'echo' ? NaN : sumOf(metricsText, 'dynamo_message_log_shed_total');
  const unanswered = byLabel(metricsText, 'dynamo_ocpp_calls_unanswered_total', 'reason');
  const answers = bucketsOf(metricsText, 'dynamo_ocpp_answer_seconds');
  const answersOver10s = (answers.get(Infinity) ?? NaN) - (answers.get(10) ?? NaN);
  await stopProcess(server.child);
  await listeners?.close();
  await prepared?.drop();
  await rm(dataDir, { recursive: true, force: true });
  const c = phases.connected ?? {};
  const during = (k: 'requests' | 'sseEvents' | 'events') => (marks.max && marks.connected ? marks.max[k] - marks.connected[k] : NaN);
  return {
    target,
    webhooks,
    sse,
    ...(listeners
      ? {
          sseRatePerClient: sse ? during('sseEvents') / sse / MAX_SECONDS : undefined,
          sseEnded: listened?.sseEnded,
          webhookRate: during('requests') / MAX_SECONDS,
          webhookRequests: listened?.webhookRequests,
          eventsDuringMax: during('events'),
          webhookLagAtMaxEnd: marks.max?.lag,
          webhookRateAtHalf: marks.half && marks.max ? (marks.half.requests - marks.max.requests) / HALF_SECONDS : NaN,
          webhookLagAtHalfEnd: marks['half-dashboard']?.lag,
          badSignatures: listened?.badSignatures,
        }
      : {}),
    serverCpuMsPerMsg: cpuAt.max && cpuAt.connected ? ((cpuAt.max.server - cpuAt.connected.server) * 1000) / (phases.max?.rate * MAX_SECONDS) : NaN,
    serverSystemMsPerMsg: cpuAt.max && cpuAt.connected ? ((cpuAt.max.serverSystem - cpuAt.connected.serverSystem) * 1000) / (phases.max?.rate * MAX_SECONDS) : NaN,
    listenerCpuSeconds: cpuAt.max && cpuAt.connected ? cpuAt.max.here - cpuAt.connected.here : NaN,
    held: c.held,
    failed: c.failed,
    connectSeconds: c.connectSeconds,
    maxRate: phases.max?.rate,
    maxP50: phases.max?.p50,
    maxP99: phases.max?.p99,
    halfTarget: phases.half?.target,
    halfRate: phases.half?.achieved,
    halfP50: phases.half?.p50,
    halfP99: phases.half?.p99,
    halfP99BySecond: phases.half?.p99BySecond ?? [],
    dashP50: phases['half-dashboard']?.p50,
    dashP99: phases['half-dashboard']?.p99,
    ...(() => {
      const d = answerBuckets.max && answerBuckets.half ? bucketDelta(answerBuckets.max, answerBuckets.half, 0.05) : undefined;
      return { halfServerWithin50ms: d?.shareWithin ?? NaN, halfServerP99Bound: d?.p99Bound ?? NaN };
    })(),
    halfGeneratorLoopP99: phases.half?.loopP99,
    halfLogWritten: logAt.max && logAt.half ? logAt.half.written - logAt.max.written : NaN,
    halfLogShed: logAt.max && logAt.half ? logAt.half.shed - logAt.max.shed : NaN,
    maxProbeUs: probeUs.max ?? NaN,
    halfProbeUs: probeUs.half ?? NaN,
    rssBeforeMiB: rssBefore,
    rssConnectedMiB: rssConnected,
    rssPerConnectionKiB: c.held ? ((rssConnected - rssBefore) * 1024) / c.held : NaN,
    dashboardQueries,
    errors: (phases.max?.errors ?? 0) + (phases.half?.errors ?? 0) + (phases['half-dashboard']?.errors ?? 0),
    stormSeconds: phases.storm?.seconds,
    stormFailed: phases.storm?.failed,
    stormRetries: phases.storm?.retries ?? 0,
    stormBackP50: phases.storm?.backP50,
    stormBackP90: phases.storm?.backP90,
    stormListenOverflows: phases.storm?.listenOverflows,
    logWritten,
    logShed,
    unanswered,
    answersOver10s,
  };
}

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main() {
  const results: Result[] = [];
  for (const t of TARGETS) {
    const order = t === 'echo' || !LISTENING ? [false] : Array.from({ length: ROUNDS }, (_, i) => (i % 2 === 0 ? [false, true] : [true, false])).flat();
    for (const listening of order) {
      const r = await run(t, listening);
      if (r) results.push(r);
    }
  }
  const echo = results.find((r) => r.target === 'echo');
  // autovacuum off (this CI machine's conf.d) leaves the fresh database's tables unanalysed for the
  // whole run, and ingest's statements are planned on guesses; before migration 0023 that put 3 of 7
  // runs at 19,000 chargers in a slow mode (docs/benchmarks.md, "An open session found by walking all
  // of them"). Every report says which setting it ran with.
  const autovacuum = results.some((r) => r.target.startsWith('postgres'))
    ? await withClient(PG_URL, async (c) => (await c.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!.autovacuum).catch(() => 'unknown')
    : undefined;
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, autovacuum };
  const lines = [
    `Ingest benchmark, ${new Date().toISOString()}: ${N} chargers speaking OCPP ${OCPP === 'mixed' ? '1.6, 2.0.1 and 2.1 (a third each)' : OCPP}, ${MAX_SECONDS} s closed loop${LOCKSTEP ? ' (chargers in lockstep)' : ''}, then${RECOVER_SECONDS ? ` after ${RECOVER_SECONDS} s idle` : ''} ${HALF_SECONDS} s at half that rate alone and ${HALF_SECONDS} s more beside a dashboard loop (GET /api/v1/cpo/chargers?limit=1000, back to back).`,
    `Command: ${serverEnvOfRun()}node dist/bench/ingest.js ${process.argv.slice(2).join(' ')}`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; load generator on the same machine${autovacuum ? `; PostgreSQL autovacuum ${autovacuum}` : ''}.`,
    '',
    '| target | held | connect s | max msg/s | vs echo | p50 / p99 ms at max | half-rate msg/s | p50 / p99 ms at half | p50 / p99 ms at half + dashboard | dashboard queries | RSS/conn KiB | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) =>
      `| ${r.target}${r.webhooks ? ` + ${r.webhooks} webhooks` : ''}${r.sse ? ` + ${r.sse} SSE` : ''} | ${r.held} | ${f(r.connectSeconds, 1)} | ${f(r.maxRate)} | ${echo ? f(r.maxRate / echo.maxRate, 2) : 'n/a'} | ${f(r.maxP50, 1)} / ${f(r.maxP99, 1)} | ${f(r.halfRate)} | ${f(r.halfP50, 1)} / ${f(r.halfP99, 1)} | ${f(r.dashP50, 1)} / ${f(r.dashP99, 1)} | ${r.dashboardQueries} | ${f(r.rssPerConnectionKiB, 1)} | ${r.errors} |`,
    ),
  ];
  lines.push(
    '',
    'Where the half-rate latency is spent: the generator times each CALL to its answer; the server times its own part (handler to answer, dynamo_ocpp_answer_seconds); the generator\'s event-loop delay is added to every answer it times.',
    '',
    '| target | p99 ms at half (generator) | generator event-loop delay p99 ms | server answers within 50 ms | server p99 at most, ms | message log at half: frames written / shed | speed probe µs, max / half phase |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.target} | ${f(r.halfP99, 1)} | ${f(r.halfGeneratorLoopP99, 1)} | ${Number.isFinite(r.halfServerWithin50ms) ? `${f(r.halfServerWithin50ms * 100, 2)} %` : 'n/a'} | ${f(r.halfServerP99Bound * 1000)} | ${f(r.halfLogWritten)} / ${f(r.halfLogShed)} | ${f(r.maxProbeUs)} / ${f(r.halfProbeUs)} |`),
    '',
    'Speed probe: µs for a fixed piece of work in the bench process, the fastest of ten each second, median over the phase (bench/machine-speed.ts; lower is faster). Two runs whose probes differ ran on a machine of different speed.',
  );
  const stormed = results.filter((r) => r.stormSeconds !== undefined);
  if (stormed.length) {
    lines.push(
      '',
      'The storm: every socket dropped at once, every charger reconnecting and booting at once, retrying after a refused or failed attempt (1 s, 2 s, … 30 s); not back within 120 s is failed. Accept-queue overflows: connections the kernel dropped meanwhile because the server had not accepted the ones before (TcpExt ListenOverflows, machine-wide).',
      '',
      '| target | half back s | 90 % back s | all back s | failed | retried attempts | accept-queue overflows |',
      '|---|---|---|---|---|---|---|',
      ...stormed.map((r) => `| ${r.target} | ${f(r.stormBackP50, 1)} | ${f(r.stormBackP90, 1)} | ${f(r.stormSeconds, 1)} | ${r.stormFailed} | ${r.stormRetries} | ${f(r.stormListenOverflows)} |`),
    );
  }
  const unanswered = results.filter((r) => r.errors > 0 || Object.keys(r.unanswered).length > 0 || r.answersOver10s > 0);
  if (unanswered.length) {
    lines.push('', 'Errors seen by the generator beside what the server says of them: CALLs it left unanswered on purpose (by reason) and answers it gave after more than 10 s.', '');
    for (const r of unanswered) lines.push(`- ${r.target}: ${r.errors} errors; unanswered ${JSON.stringify(r.unanswered)}; answers over 10 s ${f(r.answersOver10s)}`);
  }
  if (LISTENING) lines.push('', ...listenerTable(results));
  // Repeat the two targets (--targets postgres-log-off,postgres,postgres-log-off,postgres) to average out drift.
  const mean = (t: string) => {
    // A run whose generator failed has no max rate: left out (it is in the table as n/a).
    const rs = results.filter((r) => r.target === t).map((r) => r.maxRate).filter(Number.isFinite);
    return rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : NaN;
  };
  const on = mean('postgres');
  const off = mean('postgres-log-off');
  const logRatio = on / off;
  if (Number.isFinite(logRatio)) {
    const logged = results.filter((r) => r.target === 'postgres');
    lines.push(
      '',
      `Message log on / off (PostgreSQL, mean max msg/s over ${logged.length} and ${results.filter((r) => r.target === 'postgres-log-off').length} runs): ${f(on)} / ${f(off)} = ${f(logRatio * 100, 1)} % (target ≥ 85 %); ` +
        `frames logged ${logged.map((r) => r.logWritten).join(', ')}, shed ${logged.map((r) => r.logShed).join(', ')}`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
  await writeResult('ingest', { machine, command: process.argv.slice(2), serverEnv: serverEnvOfRun().trim(), chargers: N, ocpp: OCPP, maxSeconds: MAX_SECONDS, halfSeconds: HALF_SECONDS, webhooks: WEBHOOKS, sse: SSE, rounds: ROUNDS, results, messageLogOnOffRatio: logRatio });
}

/** Ingest with listeners attached beside ingest without them, per target, measured in this run. */
function listenerTable(results: Result[]): string[] {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const out = [
    `Ingest with ${WEBHOOKS} webhook endpoints (events ["*"], receivers answering 204 at once) and ${SSE} live-event-stream clients attached beside ingest without them, same run, ${ROUNDS} round(s) (target: with ≥ 90 % of without):`,
    '',
    '| target | max msg/s without | max msg/s with listeners | with / without | server CPU ms/msg without / with | of which system | bench process CPU s during max without / with | webhook deliveries/s during max | events written during max (per endpoint) | delivery lag at end of max s | deliveries/s at half rate | lag at end of half phases s | bad signatures | SSE events/s per client during max | SSE clients cut off |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of new Set(results.filter((r) => r.target !== 'echo').map((r) => r.target))) {
    const base = results.filter((r) => r.target === t && !r.webhooks && !r.sse);
    const withHooks = results.filter((r) => r.target === t && (r.webhooks || r.sse));
    if (!base.length || !withHooks.length) continue;
    const b = mean(base.map((r) => r.maxRate));
    const w = mean(withHooks.map((r) => r.maxRate));
    out.push(
      `| ${t} | ${f(b)} | ${f(w)} | ${f(w / b, 3)} | ${f(mean(base.map((r) => r.serverCpuMsPerMsg)), 3)} / ${f(mean(withHooks.map((r) => r.serverCpuMsPerMsg)), 3)} | ${f(mean(base.map((r) => r.serverSystemMsPerMsg)), 3)} / ${f(mean(withHooks.map((r) => r.serverSystemMsPerMsg)), 3)} | ${f(mean(base.map((r) => r.listenerCpuSeconds)), 1)} / ${f(mean(withHooks.map((r) => r.listenerCpuSeconds)), 1)} | ${f(mean(withHooks.map((r) => r.webhookRate ?? NaN)))} | ${f(mean(withHooks.map((r) => r.eventsDuringMax ?? NaN)))} | ${f(mean(withHooks.map((r) => r.webhookLagAtMaxEnd ?? NaN)), 1)} | ${f(mean(withHooks.map((r) => r.webhookRateAtHalf ?? NaN)))} | ${f(mean(withHooks.map((r) => r.webhookLagAtHalfEnd ?? NaN)), 1)} | ${withHooks.reduce((a, r) => a + (r.badSignatures ?? 0), 0)} | ${f(mean(withHooks.map((r) => r.sseRatePerClient ?? NaN)))} | ${withHooks.reduce((a, r) => a + (r.sseEnded ?? 0), 0)} |`,
    );
  }
  return out;
}

void main();
