// The performance targets of issue #15 for `npm run bench` (bench/suite.ts, part "performance"): each
// target's figure as min–max over the repetitions, beside the baseline its own run measured, and
// whether it is met. Every figure comes from one of the benches below, run here with the command
// line docs/benchmarks.md gives for it; the report names each command and each report it read.
import { readFile } from 'node:fs/promises';
import { spread } from './results.js';

/** Runs `node dist/bench/<script> <argv>` and resolves with the JSON report it wrote. */
export type RunBench = (script: string, argv: string[]) => Promise<string>;

export interface PerformanceOptions {
  repeat: number;
  /** Skip the parts that take longest or need most of the machine (the year, 50,000 chargers). */
  quick: boolean;
  /** The sizes the issue names, smaller only to check that the part runs (the report says so). */
  sizes?: Partial<typeof ISSUE_SIZES>;
}

/** The sizes issue #15 sets its targets at. */
export const ISSUE_SIZES = { ingest: 5000, tail: 19000, api: 10000, apiDays: 30, year: 1000, yearDays: 365, fleet: 50000, costs: 2000 };
const n = (x: number) => x.toLocaleString('en-US');

interface Row {
  target: string;
  figure: string;
  baseline: string;
  /** undefined: the issue sets no pass mark (reported); null: a repetition gave no figure. */
  met: boolean | null | undefined;
  command: string;
}

/** Met only when every repetition meets it; null when a repetition gave no figure. */
const every = (xs: number[], ok: (x: number) => boolean): boolean | null =>
  xs.length === 0 || xs.some((x) => !Number.isFinite(x)) ? null : xs.every(ok);
const readJson = async (file: string): Promise<any> => JSON.parse(await readFile(file, 'utf8'));
const name = (file: string) => file.replace(/^.*\//, '');

export async function runPerformance(run: RunBench, opts: PerformanceOptions): Promise<{ data: Record<string, unknown>; md: string[] }> {
  const z = { ...ISSUE_SIZES, ...opts.sizes };
  const rows: Row[] = [];
  const reports: string[] = [];
  const bench = async (script: string, argv: string[]) => {
    const file = await run(script, argv);
    reports.push(`\`node dist/bench/${script} ${argv.join(' ')}\` → \`${name(file)}\``);
    return { file, json: await readJson(file), command: `node dist/bench/${script} ${argv.join(' ')}` };
  };

  // Ingest at 5,000 chargers: 1.6 and mixed fleets, the echo, PostgreSQL and PGlite in every repetition.
  const ingest = await bench('ingest-compare.js', ['--chargers', String(z.ingest), '--max-seconds', '15', '--half-seconds', '10', '--ocpp', '1.6,mixed', '--targets', 'echo,postgres,pglite', '--repeat', String(opts.repeat)]);
  const at = (target: string, fleet: string, rep: number, k: string): number =>
    ingest.json.results.find((r: any) => r.target === target && r.fleet === fleet && r.repetition === rep)?.[k] ?? NaN;
  const reps = Array.from({ length: opts.repeat }, (_, i) => i + 1);
  const ratio = (t: string, f: string, base: string, bf: string) => reps.map((i) => at(t, f, i, 'maxRate') / at(base, bf, i, 'maxRate'));
  const rates = (t: string, f: string) => reps.map((i) => at(t, f, i, 'maxRate'));
  const pg16 = ratio('postgres', '1.6', 'echo', '1.6');
  rows.push({ target: `OCPP 1.6 on PostgreSQL, ${n(z.ingest)} chargers ≥ 0.40 of the echo`, figure: `${spread(pg16, 2)} (${spread(rates('postgres', '1.6'), 0)} msg/s)`, baseline: `echo ${spread(rates('echo', '1.6'), 0)} msg/s`, met: every(pg16, (x) => x >= 0.4), command: ingest.command });
  const mixed = ratio('postgres', 'mixed', 'postgres', '1.6');
  rows.push({ target: 'mixed fleet ≥ 0.85 of 1.6 (PostgreSQL)', figure: `${spread(mixed, 2)} (${spread(rates('postgres', 'mixed'), 0)} msg/s)`, baseline: `1.6 in the same repetition, ${spread(rates('postgres', '1.6'), 0)} msg/s`, met: every(mixed, (x) => x >= 0.85), command: ingest.command });
  const lite = ratio('pglite', '1.6', 'echo', '1.6');
  rows.push({ target: 'PGlite ≥ 0.20 of the echo (1.6)', figure: `${spread(lite, 2)} (${spread(rates('pglite', '1.6'), 0)} msg/s)`, baseline: `echo ${spread(rates('echo', '1.6'), 0)} msg/s`, met: every(lite, (x) => x >= 0.2), command: ingest.command });

  // The large fleet's half-rate tail, and memory per idle connection, beside the echo.
  const large = await bench('ingest.js', ['--chargers', String(z.tail), '--max-seconds', '10', '--half-seconds', '15', '--phases', 'max,half', '--ocpp', '1.6', '--targets', ['echo', ...reps.map(() => 'postgres')].join(',')]);
  const of19 = (t: string, k: string): number[] => large.json.results.filter((r: any) => r.target === t).map((r: any) => r[k] ?? NaN);
  rows.push({ target: `p99 at half the maximum rate ≤ 50 ms, ${n(z.tail)} chargers (PostgreSQL)`, figure: `${spread(of19('postgres', 'halfP99'), 1)} ms at ${spread(of19('postgres', 'halfRate'), 0)} msg/s`, baseline: `echo ${spread(of19('echo', 'halfP99'), 1)} ms`, met: every(of19('postgres', 'halfP99'), (x) => x <= 50), command: large.command });
  const rss = [...of19('postgres', 'rssPerConnectionKiB'), ...reps.map((i) => at('postgres', '1.6', i, 'rssPerConnectionKiB'))];
  rows.push({ target: `RSS per idle connection ≤ 12 KiB (PostgreSQL; ${n(z.tail)} and ${n(z.ingest)} chargers)`, figure: `${spread(rss, 1)} KiB`, baseline: `echo ${spread([...of19('echo', 'rssPerConnectionKiB'), ...reps.map((i) => at('echo', '1.6', i, 'rssPerConnectionKiB'))], 1)} KiB`, met: every(rss, (x) => x <= 12), command: `${large.command}; ${ingest.command}` });

  // The fleet API, PostgreSQL and PGlite, each repetition its own history.
  const api: any[] = [];
  let apiCommand = '';
  for (const _ of reps) {
    const r = await bench('api.js', ['--chargers', String(z.api), '--days', String(z.apiDays), '--phases', 'rollups', '--targets', 'postgres,pglite']);
    api.push(r.json);
    apiCommand = r.command;
  }
  // The last pass of the server: the product's path on a server that has been up (bench/api.ts --passes).
  const warm = (run: any) => run?.phases?.at(-1)?.results ?? [];
  const apiAt = (target: string, prefix: string, k: string) =>
    api.map((a) => warm(a.runs.find((r: any) => r.target === target)).find((e: any) => e.endpoint.startsWith(prefix))?.[k] ?? NaN);
  const scans = (t: string) => api.map((a) => a.runs.find((r: any) => r.target === t)?.rawScanMs ?? NaN);
  for (const [label, prefix, limit] of [
    [`summary ≤ 5 ms at ${n(z.api)} chargers`, 'summary', 5],
    [`chargers list (limit 100) ≤ 5 ms at ${n(z.api)} chargers`, 'chargers (limit 100)', 5],
    [`uptime, ${n(z.api)} chargers × ${z.apiDays} d ≤ 100 ms`, 'uptime (all', 100],
    [`utilisation by day, one site (a tenth: ${n(z.api / 10)} chargers) × ${z.apiDays} d ≤ 100 ms`, 'utilisation daily', 100],
  ] as const) {
    const p50 = apiAt('postgres', prefix, 'p50');
    rows.push({ target: `${label} (PostgreSQL, p50 of 20, warm server)`, figure: `${spread(p50, 1)} ms (p99 ${spread(apiAt('postgres', prefix, 'p99'), 1)})`, baseline: `raw scan of the history ${spread(scans('postgres'), 0)} ms`, met: every(p50, (x) => x <= limit), command: apiCommand });
    const factor = apiAt('pglite', prefix, 'p50').map((x, i) => x / p50[i]!);
    rows.push({ target: `… PGlite within 3× of PostgreSQL`, figure: `${spread(factor, 2)}× (${spread(apiAt('pglite', prefix, 'p50'), 1)} ms)`, baseline: `PostgreSQL ${spread(p50, 1)} ms, same run`, met: every(factor, (x) => x <= 3), command: apiCommand });
  }

  if (!opts.quick) {
    // A year: generated by bulk SQL, then timed over HTTP (PostgreSQL).
    const year = await bench('fleet-queries.js', ['--chargers', String(z.year), '--days', String(z.yearDays), '--http', 'true', '--parts', '2', '--repeat', String(opts.repeat), '--queries', 'uptime,month-all,day-site', '--direct', 'true']);
    // The baseline: the same answers computed from the intervals alone (fleet-queries --direct).
    const q = (query: string, k: string, direct = false): number[] =>
      year.json.results.filter((r: any) => r.query === query && r.direct === direct).map((r: any) => r[k] ?? NaN);
    rows.push({ target: `${z.yearDays} days of history for ${n(z.year)} chargers generated in minutes (bulk SQL; read here as under 30 min)`, figure: `${(year.json.generated.seconds / 60).toFixed(1)} min (rollups ${(year.json.generated.rollups.seconds / 60).toFixed(1)})`, baseline: '—', met: year.json.generated.seconds < 30 * 60, command: year.command });
    for (const [label, query] of [['uptime', 'uptime'], ['utilisation by month, all chargers', 'month-all'], ['utilisation by day, one site (a tenth)', 'day-site']] as const) {
      rows.push({ target: `${label}, ${n(z.year)} chargers × ${z.yearDays} d ≤ 150 ms (PostgreSQL, p50 of 20)`, figure: `${spread(q(query, 'p50'), 1)} ms (p99 ${spread(q(query, 'p99'), 1)})`, baseline: `direct computation, no rollups (a function, p50 of 5): ${spread(q(query, 'p50', true), 0)} ms`, met: every(q(query, 'p50'), (x) => x <= 150), command: year.command });
    }

    // The largest fleet on one machine: three nodes, the realistic rate, then the storm.
    const fleets: any[] = [];
    let fleetCommand = '';
    for (const _ of reps) {
      const r = await bench('large-fleet.js', ['--chargers', String(z.fleet), '--warmup-seconds', '30']);
      fleets.push(r.json.result);
      fleetCommand = r.command;
    }
    const p99s = fleets.map((f) => Math.max(...f.steady.p99));
    rows.push({ target: `${n(z.fleet)} chargers: p99 ≤ 100 ms at the realistic rate (worst of the generators)`, figure: `${spread(p99s, 1)} ms at ${spread(fleets.map((f) => f.steady.achieved), 0)} msg/s; ${spread(fleets.map((f) => f.connect.held), 0)} held`, baseline: `target rate ${spread(fleets.map((f) => f.steady.target), 0)} msg/s`, met: every(p99s, (x) => x <= 100), command: fleetCommand });
    const stormFailed = fleets.map((f) => f.storm.failed + (f.storm.reconnected === f.chargers ? 0 : 1));
    rows.push({ target: `${n(z.fleet)} chargers: the connection storm recovered, nothing failed`, figure: `all back in ${spread(fleets.map((f) => f.storm.seconds), 1)} s, failed ${spread(fleets.map((f) => f.storm.failed), 0)}`, baseline: '—', met: every(stormFailed, (x) => x === 0), command: fleetCommand });
    rows.push({ target: `${n(z.fleet)} chargers: RSS and CPU (reported)`, figure: `${spread(fleets.map((f) => f.kibPerConnection), 1)} KiB a connection; nodes ${spread(fleets.flatMap((f) => f.steady.nodeCpuPercent), 0)} % of a core each, PostgreSQL ${spread(fleets.map((f) => f.steady.postgresAllCpuPercent), 0)} %`, baseline: '—', met: undefined, command: fleetCommand });
  }

  // Costs per message (measured at an unsaturated rate; the message log off is the baseline).
  const costs = await bench('costs.js', ['--chargers', String(z.costs), '--rate', '400', '--seconds', '60', '--rollup-chargers', String(z.year), '--ocpp', '1.6', '--targets', 'postgres-log-off,postgres']);
  const cost = (t: string) => costs.json.results.find((r: any) => r.target === t);
  const on = cost('postgres');
  const off = cost('postgres-log-off');
  rows.push({
    target: 'costs for 100,000 chargers: per message (reported)',
    figure: on ? `server ${on.serverCpuUsPerMessage.toFixed(0)} µs, PostgreSQL ${on.databaseCpuUsPerMessage.toFixed(0)} µs, WAL ${on.walBytesPerMessage.toFixed(0)} B, ${on.rowsWrittenPerMessage.toFixed(2)} rows; rollups ${costs.json.rollup.databaseCpuSeconds.toFixed(2)} s of CPU a day per ${costs.json.rollup.chargers} chargers` : 'n/a',
    baseline: off ? `message log off: server ${off.serverCpuUsPerMessage.toFixed(0)} µs, PostgreSQL ${off.databaseCpuUsPerMessage.toFixed(0)} µs, ${off.rowsWrittenPerMessage.toFixed(2)} rows` : '—',
    met: undefined,
    command: costs.command,
  });

  const md = [
    `## Issue #15's performance targets (${opts.repeat} repetition(s): figures are min–max; "met" only if every repetition meets it)`,
    '',
    ...(Object.entries(z).some(([k, v]) => ISSUE_SIZES[k as keyof typeof ISSUE_SIZES] !== v)
      ? ['**Smaller than the issue\'s sizes: a check that this part runs, not a measurement of the targets.**', '']
      : []),
    ...(opts.quick ? ['Quick: without the year and the largest fleet.', ''] : []),
    '| target | figure | baseline, same run | status |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.target} | ${r.figure} | ${r.baseline} | ${r.met === undefined ? 'reported' : r.met === null ? 'no figure' : r.met ? '**met**' : '**not met**'} |`),
    '',
    'Commands and their reports (bench/results/):',
    '',
    ...reports.map((r) => `- ${r}`),
  ];
  return { data: { rows, reports }, md };
}
