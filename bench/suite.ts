// npm run bench — the whole benchmark suite in one report (docs/benchmarks.md): the ingest
// benchmark (with its connection storm), the API benchmark, the cluster benchmark (three nodes
// beside one node), the compliance benchmark (the NEVI report beside fleet uptime) and issue #15's
// performance targets (bench/suite-performance.ts), each figure beside its target and the baseline
// measured in the same run. --repeat N runs everything N times and reports the spread (min–max) as
// the noise; --parts picks the parts (default: all).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import { clusterTable, type ClusterResult } from './cluster.js';
import { spread, writeResult } from './results.js';
import { ISSUE_SIZES, runPerformance } from './suite-performance.js';
import { describeMachineSpeed, machineSpeed } from './machine-speed.js';
import { BENCH_PG_URL } from './bench-fleet.js';

const args = benchArgs();
const ROOT = new URL('../../', import.meta.url).pathname;
const REPEAT = Number(args.get('repeat') ?? 1);
const INGEST_CHARGERS = args.get('ingest-chargers') ?? '19000';
const API_CHARGERS = args.get('api-chargers') ?? '10000';
const DAYS = args.get('days') ?? '30';
// Listeners attached to ingest, measured beside ingest without them in the same run (0 to skip).
const WEBHOOKS = args.get('webhooks') ?? '3';
const SSE = args.get('sse') ?? '20';
const CLUSTER_CHARGERS = args.get('cluster-chargers') ?? '3000';
// Two ports each: 500 chargers are the 1,000 ports of the compliance target (issue #16).
const RELIABILITY_CHARGERS = args.get('reliability-chargers') ?? '500';
const ALL_PARTS = ['ingest', 'api', 'cluster', 'reliability', 'performance'];
const PARTS = (args.get('parts') ?? ALL_PARTS.join(',')).split(',');
for (const p of PARTS) if (!ALL_PARTS.includes(p)) throw new Error(`--parts: unknown part ${p} (known: ${ALL_PARTS.join(', ')})`);
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat must be a whole number ≥ 1, not ${args.get('repeat')}`);
// --quick true: the performance part without its longest runs (a year of history, 50,000 chargers).
const QUICK = args.get('quick') === 'true';
// --performance-sizes ingest=200,tail=300,…: smaller than the issue's sizes (ISSUE_SIZES), to check that the part runs.
const PERF_SIZES = Object.fromEntries(
  (args.get('performance-sizes') ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => {
      const [k, v] = kv.split('=');
      if (!(k! in ISSUE_SIZES) || !(Number(v) > 0)) throw new Error(`--performance-sizes: ${kv} (known: ${Object.keys(ISSUE_SIZES).join(', ')}, each a positive number)`);
      return [k!, Number(v)];
    }),
);

function run(script: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/bench', script), ...argv], { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      process.stderr.write(d);
    });
    child.on('exit', (code) => {
      const m = /written (\S+\.json)/.exec(err);
      if (code === 0 && m) resolve(m[1]!);
      else reject(new Error(`${script} exited ${code}`));
    });
  });
}

async function main() {
  const ingest: any[] = [];
  const api: any[] = [];
  const cluster: { results: ClusterResult[] }[] = [];
  const reliability: { ports: number; baseline: { name: string; ms: number[] }; nevi: { name: string; ms: number[]; targetMs: number } }[] = [];
  const has = (part: string) => PARTS.includes(part);
  // This machine's cores change speed by up to three times (docs/benchmarks.md): the report says which state it ran in.
  const speedBefore = await machineSpeed(BENCH_PG_URL);
  for (let i = 0; i < REPEAT; i++) {
    if (has('ingest')) ingest.push(JSON.parse(await readFile(await run('ingest.js', ['--chargers', INGEST_CHARGERS, '--webhooks', WEBHOOKS, '--sse', SSE]), 'utf8')));
    if (has('api')) api.push(JSON.parse(await readFile(await run('api.js', ['--chargers', API_CHARGERS, '--days', DAYS]), 'utf8')));
    if (has('cluster')) cluster.push(JSON.parse(await readFile(await run('cluster.js', ['--chargers', CLUSTER_CHARGERS]), 'utf8')));
    if (has('reliability')) reliability.push(JSON.parse(await readFile(await run('reliability.js', ['--chargers', RELIABILITY_CHARGERS, '--days', '365', '--runs', '3']), 'utf8')));
  }
  // Repeats inside: each of its benches takes --repeat or is run that many times, so baselines stay in their run.
  const performance = has('performance') ? await runPerformance(run, { repeat: REPEAT, quick: QUICK, sizes: PERF_SIZES }) : undefined;
  const speedAfter = await machineSpeed(BENCH_PG_URL);
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const md: string[] = [
    `# Benchmark suite, ${new Date().toISOString()}`,
    '',
    `Command: node dist/bench/suite.js ${process.argv.slice(2).join(' ')}`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; ${describeMachineSpeed(speedBefore)}; ${describeMachineSpeed(speedAfter, 'after the run')}. Runs: ${REPEAT} (figures are min–max over the runs: the noise).`,
    '',
  ];
  if (has('ingest')) ingestSection(md, ingest);
  if (has('api')) apiSection(md, api);
  if (has('cluster')) md.push('', `## Cluster (${CLUSTER_CHARGERS} chargers; baseline: one node in the same run; every run listed)`, '', ...clusterTable(cluster.flatMap((c) => c.results)));
  if (has('reliability')) reliabilitySection(md, reliability);
  if (performance) md.push(...(md.at(-1) === '' ? [] : ['']), ...performance.md);
  process.stdout.write(md.join('\n') + '\n');
  await writeResult('suite', { machine, machineSpeed: { before: speedBefore, after: speedAfter }, command: process.argv.slice(2), repeat: REPEAT, parts: PARTS, ingest, api, cluster, reliability, performance: performance?.data }, md.join('\n') + '\n');
}

function ingestSection(md: string[], ingest: any[]) {
  md.push(
    `## Ingest (${INGEST_CHARGERS} chargers; baseline: bare ws echo in the same run)`,
    '',
    '| figure | target | echo | pglite | postgres | postgres, message log off |',
    '|---|---|---|---|---|---|',
  );
  // listening: the run with the webhook endpoints and stream clients attached.
  const byTarget = (t: string, k: string, listening = false) =>
    ingest.map((r) => r.results.find((x: any) => x.target === t && ((x.webhooks ?? 0) + (x.sse ?? 0) > 0) === listening)?.[k] ?? NaN);
  const row = (label: string, target: string, k: string, d = 0) =>
    md.push(`| ${label} | ${target} | ${spread(byTarget('echo', k), d)} | ${spread(byTarget('pglite', k), d)} | ${spread(byTarget('postgres', k), d)} | ${spread(byTarget('postgres-log-off', k), d)} |`);
  row('connections held', '≥ 20,000', 'held');
  row('sustained messages/s', 'PG ≥ 10,000; PGlite ≥ 3,000', 'maxRate');
  row('p99 ms at half rate', '< 50', 'halfP99', 1);
  row('p99 ms at half rate beside a dashboard', '< 50, ingest not blocked', 'dashP99', 1);
  row('RSS per connection KiB', '—', 'rssPerConnectionKiB', 1);
  row('connection storm: s until all back', '—', 'stormSeconds', 1);
  if (Number(WEBHOOKS) + Number(SSE) > 0) {
    const on = true;
    const ratio = (t: string) => ingest.map((r, i) => byTarget(t, 'maxRate', on)[i]! / byTarget(t, 'maxRate')[i]!);
    md.push(`| sustained messages/s with ${WEBHOOKS} webhook endpoints and ${SSE} stream clients attached | within 10 % of the row above | — | ${spread(byTarget('pglite', 'maxRate', on), 0)} | ${spread(byTarget('postgres', 'maxRate', on), 0)} |`);
    md.push(`| with / without listeners | ≥ 0.90 | — | ${spread(ratio('pglite'), 3)} | ${spread(ratio('postgres'), 3)} |`);
    md.push(`| webhook deliveries/s during max (paced) / at half rate | — | — | ${spread(byTarget('pglite', 'webhookRate', on), 0)} / ${spread(byTarget('pglite', 'webhookRateAtHalf', on), 0)} | ${spread(byTarget('postgres', 'webhookRate', on), 0)} / ${spread(byTarget('postgres', 'webhookRateAtHalf', on), 0)} |`);
    md.push(`| stream events/s per client during max; clients cut off | —; 0 | — | ${spread(byTarget('pglite', 'sseRatePerClient', on), 0)}; ${spread(byTarget('pglite', 'sseEnded', on), 0)} | ${spread(byTarget('postgres', 'sseRatePerClient', on), 0)}; ${spread(byTarget('postgres', 'sseEnded', on), 0)} |`);
  }
  md.push(`| message log on ÷ off, max msg/s (PostgreSQL) | ≥ 85 % | | | ${spread(ingest.map((r) => (r.messageLogOnOffRatio ?? NaN) * 100), 1)} % | |`);
}

function apiSection(md: string[], api: any[]) {
  // bench:api times every endpoint in phases (without and with rollups) and passes (a server just
  // started, then warm); the suite's table is the last of them, the product's path on a warm server.
  const lastPass = (run: any): any[] => run?.phases?.[run.phases.length - 1]?.results ?? [];
  const lastPhaseName: string = api[0].runs[0]?.phases?.at(-1)?.phase ?? 'n/a';
  md.push('', `## Fleet API (${API_CHARGERS} chargers × ${DAYS} days, ${lastPhaseName}; baseline: raw scan of the history rows in the same run)`, '');
  md.push('| endpoint | target p50 ms (PG; PGlite 3×) | postgres p50 / p99 | pglite p50 / p99 |', '|---|---|---|---|');
  const endpoints: string[] = lastPass(api[0].runs[0]).map((e: any) => e.endpoint);
  const of = (target: string, endpoint: string, k: string) => api.map((a) => lastPass(a.runs.find((r: any) => r.target === target)).find((e: any) => e.endpoint === endpoint)?.[k] ?? NaN);
  for (const e of endpoints) {
    const t = lastPass(api[0].runs.find((r: any) => r.target === 'postgres')).find((x: any) => x.endpoint === e)?.targetMs;
    md.push(`| ${e} | ${t ?? '—'} | ${spread(of('postgres', e, 'p50'), 1)} / ${spread(of('postgres', e, 'p99'), 1)} | ${spread(of('pglite', e, 'p50'), 1)} / ${spread(of('pglite', e, 'p99'), 1)} |`);
  }
  const scans = (t: string) => api.map((a) => a.runs.find((r: any) => r.target === t)?.rawScanMs ?? NaN);
  md.push(`| raw scan (floor) | — | ${spread(scans('postgres'), 0)} | ${spread(scans('pglite'), 0)} |`);
}

function reliabilitySection(md: string[], reliability: { ports: number; baseline: { name: string; ms: number[] }; nevi: { name: string; ms: number[]; targetMs: number } }[]) {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  md.push(
    '',
    `## Compliance (${reliability[0]?.ports ?? 'n/a'} ports × 365 days of generated history, PostgreSQL; baseline: fleet uptime over the same history in the same run)`,
    '',
    '| figure | target | median ms per run (spread over runs) |',
    '|---|---|---|',
    `| ${reliability[0]?.nevi.name ?? 'NEVI report'} | < ${reliability[0]?.nevi.targetMs ?? 1000} | ${spread(reliability.map((r) => median(r.nevi.ms)), 0)} |`,
    `| ${reliability[0]?.baseline.name ?? 'fleet uptime'} (baseline) | — | ${spread(reliability.map((r) => median(r.baseline.ms)), 0)} |`,
  );
}

void main();
