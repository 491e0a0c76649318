// npm run bench:fleet-queries — the fleet queries behind uptime and utilisation, timed as functions
// (no HTTP) on one database, for this build and optionally an earlier one in the same run,
// alternating, so that a change to a query is measured against its baseline on the same data and
// the same machine minute (docs/benchmarks.md). The database is generated (N chargers × D days,
// rollups built and vacuumed as in bench:api) or given, and kept when asked, for the next run.
//
//   node dist/bench/fleet-queries.js --chargers 10000 --days 30 [--keep true]
//   node dist/bench/fleet-queries.js --database-url postgres://…/kept --compare /path/to/older/checkout/dist
//   options: --samples N (20), --repeat R (2), --queries uptime,day-site,month-all,day-one,
//            --parts P (1): this build's uptime and utilisation as P statements at once (DYNAMO_FLEET_QUERY_PARTS)
//
// An earlier build is read from its own dist: only its query functions are used, so it runs on a
// database migrated by this build as long as the tables it reads are unchanged.
import { backfillBenchHistory, benchFleetDatabase, buildBenchRollups } from './bench-fleet.js';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import { writeResult } from './results.js';
import { percentile } from './sim-charger.js';
import { openDatabase } from '../src/store/open.js';
import type { Queryable } from '../src/store/db.js';
import type { Scope } from '../src/fleet/scope.js';

const args = benchArgs();
const N = Number(args.get('chargers') ?? 10_000);
const DAYS = Number(args.get('days') ?? 30);
const SAMPLES = Number(args.get('samples') ?? 20);
const REPEAT = Number(args.get('repeat') ?? 2);
const QUERIES = (args.get('queries') ?? 'uptime,day-site,month-all,day-one').split(',');
const GIVEN_URL = args.get('database-url');
const KEEP = args.get('keep') === 'true';
const COMPARE = args.get('compare');
const PARTS = Number(args.get('parts') ?? 1);
const THIS_DIST = new URL('../', import.meta.url).pathname;

type Query = (db: Queryable, scope: Scope, from: Date, to: Date) => Promise<unknown[]>;

/** The queries of one build, from its dist folder. */
async function queriesOf(dist: string): Promise<Record<string, { scope: (t: string) => Scope; run: Query }>> {
  const { uptimeSeconds } = (await import(join(dist, 'src/fleet/uptime.js'))) as typeof import('../src/fleet/uptime.js');
  const { utilisationSeconds } = (await import(join(dist, 'src/fleet/utilisation.js'))) as typeof import('../src/fleet/utilisation.js');
  // Only this build takes options: an earlier one's next argument meant something else (direct).
  const opts: [{ parts: number }] | [] = dist === THIS_DIST ? [{ parts: PARTS }] : [];
  return {
    uptime: { scope: (t) => ({ tenantId: t }), run: (db, s, f, to) => uptimeSeconds(db, s, f, to, ...opts) },
    'day-site': { scope: (t) => ({ tenantId: t, siteId: 'site_bench_1' }), run: (db, s, f, to) => utilisationSeconds(db, s, f, to, 'day', ...opts) },
    'month-all': { scope: (t) => ({ tenantId: t }), run: (db, s, f, to) => utilisationSeconds(db, s, f, to, 'month', ...opts) },
    'day-one': { scope: (t) => ({ tenantId: t, chargePointId: 'CP-00042' }), run: (db, s, f, to) => utilisationSeconds(db, s, f, to, 'day') },
  };
}

async function database(): Promise<{ url: string; drop?: () => Promise<void>; generated?: unknown }> {
  if (GIVEN_URL) return { url: GIVEN_URL };
  const started = performance.now();
  const fleet = await benchFleetDatabase('postgres', '', 0, async (_db, f) => f.tenantId);
  const url = fleet.databaseUrl!;
  const { db, release } = await openDatabase({ databaseUrl: url, dataDir: '', poolSize: 2 });
  process.stderr.write(`generating ${N} chargers × ${DAYS} days in ${url}…\n`);
  await backfillBenchHistory(db, fleet.extra, N, DAYS);
  const rollups = await buildBenchRollups(db);
  await release();
  const generated = { seconds: (performance.now() - started) / 1000, rollups };
  process.stderr.write(`generated: ${JSON.stringify(generated)}${KEEP ? ` (kept: ${url})` : ''}\n`);
  return { url, drop: KEEP ? undefined : fleet.drop, generated };
}

async function main() {
  const target = await database();
  const { db, release } = await openDatabase({ databaseUrl: target.url, dataDir: '', poolSize: Math.max(2, PARTS) });
  try {
    const [{ tenant_id: tenantId }] = (await db.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants LIMIT 1')) as [{ tenant_id: string }];
    const [span] = await db.query<{ days: number; chargers: number }>(
      `SELECT round(extract(epoch FROM now() - min(connected_at)) / 86400)::int AS days, (SELECT count(*)::int FROM chargers) AS chargers FROM connections`,
    );
    const to = new Date();
    const from = new Date(to.getTime() - Math.min(span!.days, 365) * 86_400_000);
    const builds = [{ name: PARTS > 1 ? `this build, in ${PARTS} parts` : 'this build', dist: THIS_DIST }, ...(COMPARE ? [{ name: `compare (${COMPARE})`, dist: COMPARE }] : [])];
    const loaded = await Promise.all(builds.map(async (b) => ({ ...b, queries: await queriesOf(b.dist) })));
    const results: { build: string; repeat: number; query: string; rows: number; p50: number; p99: number; min: number }[] = [];
    for (let r = 1; r <= REPEAT; r++) {
      // The earlier build first in each round: whichever runs second meets warmer caches.
      for (const b of [...loaded].reverse()) {
        for (const name of QUERIES) {
          const q = b.queries[name];
          if (!q) throw new Error(`unknown query ${name}`);
          const scope = q.scope(tenantId);
          for (let i = 0; i < 2; i++) await q.run(db, scope, from, to);
          const ms: number[] = [];
          let rows = 0;
          for (let i = 0; i < SAMPLES; i++) {
            const t = performance.now();
            rows = (await q.run(db, scope, from, to)).length;
            ms.push(performance.now() - t);
          }
          ms.sort((x, y) => x - y);
          const res = { build: b.name, repeat: r, query: name, rows, p50: percentile(ms, 50), p99: percentile(ms, 99), min: ms[0]! };
          process.stderr.write(`[${b.name} #${r}] ${name}: p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)}, min ${res.min.toFixed(1)} (${rows} rows)\n`);
          results.push(res);
        }
      }
    }
    const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
    const lines = [
      `Fleet queries, ${new Date().toISOString()}: ${span!.chargers} chargers, ${Math.min(span!.days, 365)} days, ${SAMPLES} calls each after 2 warm-ups, p50 / p99 ms, builds alternating ${REPEAT}×.`,
      `Command: node dist/bench/fleet-queries.js ${process.argv.slice(2).join(' ')}`,
      `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}.`,
      '',
      `| query | ${loaded.map((b) => b.name).join(' | ')} |`,
      `|---|${loaded.map(() => '---|').join('')}`,
      ...QUERIES.map((q) => `| ${q} | ${loaded.map((b) => results.filter((x) => x.build === b.name && x.query === q).map((x) => `${x.p50.toFixed(1)} / ${x.p99.toFixed(1)}`).join(', ')).join(' | ')} |`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    await writeResult('fleet-queries', { machine, command: process.argv.slice(2), generated: target.generated, results }, lines.join('\n') + '\n');
  } finally {
    await release();
    await target.drop?.();
  }
}

void main();
