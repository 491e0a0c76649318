// npm run bench:fleet-queries — the fleet queries behind uptime and utilisation, timed as functions
// (or, with --http, as API requests) on one database, for this build and optionally an earlier one in the same run,
// alternating, so that a change to a query is measured against its baseline on the same data and
// the same machine minute (docs/benchmarks.md). The database is generated (N chargers × D days,
// rollups built and vacuumed as in bench:api) or given, and kept when asked, for the next run.
//
//   node dist/bench/fleet-queries.js --chargers 10000 --days 30 [--keep true]
//   node dist/bench/fleet-queries.js --database-url postgres://…/kept --compare /path/to/older/checkout/dist
//   options: --samples N (20), --repeat R (2), --queries uptime,day-site,month-all,day-one,
//            --parts P (1): this build's uptime and utilisation as P statements at once (DYNAMO_FLEET_QUERY_PARTS),
//            --compare-parts P: the same for the earlier build (one that takes parts: fd943fc and later),
//            --compare-database-url postgres://…/copy: the earlier build's database (below),
//            --http true: each query as the API request that makes it, to the build's own `dynamo serve`
//            on its database (DYNAMO_FLEET_QUERY_PARTS from --parts / --compare-parts), over HTTP,
//            --direct true: the baseline, the same queries computed from the intervals alone (no
//            rollups: the definition the rollups must agree with), as functions, --direct-samples N (5) calls each
//
// An earlier build is read from its own dist: only its query functions are used, so it runs on a
// database migrated by this build as long as the tables it reads are unchanged. When this build
// changes the database functions the queries call, the earlier build needs a copy of the database
// migrated by itself (CREATE DATABASE copy TEMPLATE kept, then its `dynamo migrate`), given as
// --compare-database-url; the two are then timed alternating, each on its own copy.
//
// A kept database's rollups are first brought up to now, as the keeper of a running server keeps
// them (else the part after the watermark, computed directly, grows by an hour every hour).
import { backfillBenchHistory, benchFleetDatabase, buildBenchRollups } from './bench-fleet.js';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import { writeResult } from './results.js';
import { percentile } from './sim-charger.js';
import { openDatabase } from '../src/store/open.js';
import { refreshRollupsFully } from '../src/store/rollups.js';
import { insertApiKey } from '../src/store/api-keys.js';
import { generateApiKey, hashApiKey } from '../src/security/secrets.js';
import { SERVE_ENV, startProcess, stopProcess } from './server-process.js';
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
const COMPARE_URL = args.get('compare-database-url');
const HTTP = args.get('http') === 'true';
const PARTS = Number(args.get('parts') ?? 1);
const COMPARE_PARTS = args.get('compare-parts') ? Number(args.get('compare-parts')) : undefined;
const DIRECT = args.get('direct') === 'true';
const DIRECT_SAMPLES = Number(args.get('direct-samples') ?? 5);
const THIS_DIST = new URL('../', import.meta.url).pathname;

/** One call of a query; resolves to the rows (chargers) of its answer. */
type Query = (db: Queryable, scope: Scope, from: Date, to: Date) => Promise<number>;

type Queries = Record<string, { scope: (t: string) => Scope; run: Query }>;

/** The queries of one build, from its dist folder, in `parts` statements each. */
async function queriesOf(dist: string, parts: number | undefined): Promise<Queries> {
  const { uptimeSeconds } = (await import(join(dist, 'src/fleet/uptime.js'))) as typeof import('../src/fleet/uptime.js');
  const { utilisationSeconds } = (await import(join(dist, 'src/fleet/utilisation.js'))) as typeof import('../src/fleet/utilisation.js');
  // An earlier build takes options only when asked: before fd943fc its next argument meant something else (direct).
  const opts: [{ parts: number }] | [] = parts ? [{ parts }] : [];
  return {
    uptime: { scope: (t) => ({ tenantId: t }), run: async (db, s, f, to) => (await uptimeSeconds(db, s, f, to, ...opts)).length },
    'day-site': { scope: (t) => ({ tenantId: t, siteId: 'site_bench_1' }), run: async (db, s, f, to) => (await utilisationSeconds(db, s, f, to, 'day', ...opts)).length },
    'month-all': { scope: (t) => ({ tenantId: t }), run: async (db, s, f, to) => (await utilisationSeconds(db, s, f, to, 'month', ...opts)).length },
    'day-one': { scope: (t) => ({ tenantId: t, chargePointId: 'CP-00042' }), run: async (db, s, f, to) => (await utilisationSeconds(db, s, f, to, 'day')).length },
  };
}

/** This build's queries computed from the intervals alone, without the rollups: what the rollups save. */
async function directQueries(): Promise<Queries> {
  const { uptimeSeconds } = await import('../src/fleet/uptime.js');
  const { utilisationSeconds } = await import('../src/fleet/utilisation.js');
  const direct = { direct: true } as const;
  return {
    uptime: { scope: (t) => ({ tenantId: t }), run: async (db, s, f, to) => (await uptimeSeconds(db, s, f, to, direct)).length },
    'day-site': { scope: (t) => ({ tenantId: t, siteId: 'site_bench_1' }), run: async (db, s, f, to) => (await utilisationSeconds(db, s, f, to, 'day', direct)).length },
    'month-all': { scope: (t) => ({ tenantId: t }), run: async (db, s, f, to) => (await utilisationSeconds(db, s, f, to, 'month', direct)).length },
    'day-one': { scope: (t) => ({ tenantId: t, chargePointId: 'CP-00042' }), run: async (db, s, f, to) => (await utilisationSeconds(db, s, f, to, 'day', direct)).length },
  };
}

/**
 * The same queries as API requests to a build's own server on its database (the server is
 * stopped by the returned stop): the answer's chargers are the rows.
 */
async function httpQueriesOf(dist: string, databaseUrl: string, db: Queryable, parts: number | undefined): Promise<{ queries: Queries; stop: () => Promise<void> }> {
  const server = await startProcess([join(dist, 'src/cli/main.js'), 'serve'], {
    ...SERVE_ENV,
    DATABASE_URL: databaseUrl,
    DYNAMO_ROLLUP_INTERVAL: '0',
    ...(parts ? { DYNAMO_FLEET_QUERY_PARTS: String(parts) } : {}),
  });
  const [tenant] = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants LIMIT 1');
  const { key, prefix } = generateApiKey('tenant');
  await insertApiKey(db, { tenantId: tenant!.tenant_id, name: 'bench:fleet-queries', prefix, keyHash: hashApiKey(key), scopes: ['read:charge_points'] });
  // The answer is read whole but parsed once per query, for its row count: the client's JSON.parse
  // of a 1.5 MB answer would be timed with the server (and share its two cores).
  const counts = new Map<string, number>();
  const get = (query: string) => async (_db: Queryable, _s: Scope, from: Date, to: Date) => {
    const res = await fetch(`${server.url}/api/v1/cpo/fleet/${query}${query.includes('?') ? '&' : '?'}from=${from.toISOString()}&to=${to.toISOString()}`, { headers: { authorization: `Bearer ${key}` } });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`${query}: HTTP ${res.status} ${body.toString().slice(0, 200)}`);
    let n = counts.get(query);
    if (n === undefined) counts.set(query, (n = (JSON.parse(body.toString()) as { chargers: unknown[] }).chargers.length));
    return n;
  };
  const scope = (t: string) => ({ tenantId: t });
  return {
    queries: {
      uptime: { scope, run: get('uptime') },
      'day-site': { scope, run: get('utilisation?granularity=day&site_id=site_bench_1') },
      'month-all': { scope, run: get('utilisation?granularity=month') },
      'day-one': { scope, run: get('utilisation?granularity=day&charge_point_id=CP-00042') },
    },
    stop: () => stopProcess(server.child),
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
  const servers: (() => Promise<void>)[] = [];
  const other = COMPARE_URL ? await openDatabase({ databaseUrl: COMPARE_URL, dataDir: '', poolSize: Math.max(2, COMPARE_PARTS ?? 1) }) : undefined;
  try {
    for (const d of [db, ...(other ? [other.db] : [])]) await refreshRollupsFully(d, new Date());
    const [{ tenant_id: tenantId }] = (await db.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants LIMIT 1')) as [{ tenant_id: string }];
    const [span] = await db.query<{ days: number; chargers: number }>(
      `SELECT round(extract(epoch FROM now() - min(connected_at)) / 86400)::int AS days, (SELECT count(*)::int FROM chargers) AS chargers FROM connections`,
    );
    const to = new Date();
    const from = new Date(to.getTime() - Math.min(span!.days, 365) * 86_400_000);
    const builds = [
      { name: PARTS > 1 ? `this build, in ${PARTS} parts` : 'this build', dist: THIS_DIST, db, url: target.url, parts: PARTS },
      ...(COMPARE
        ? [{ name: `compare (${COMPARE})${COMPARE_PARTS && COMPARE_PARTS > 1 ? `, in ${COMPARE_PARTS} parts` : ''}`, dist: COMPARE, db: other?.db ?? db, url: COMPARE_URL ?? target.url, parts: COMPARE_PARTS }]
        : []),
    ];
    const loaded: { name: string; db: Queryable; queries: Queries; samples: number; warmups: number; direct?: true }[] = await Promise.all(
      builds.map(async (b) => {
        if (!HTTP) return { ...b, queries: await queriesOf(b.dist, b.parts), samples: SAMPLES, warmups: 2 };
        const served = await httpQueriesOf(b.dist, b.url, b.db, b.parts);
        servers.push(served.stop);
        return { ...b, name: `${b.name}, over HTTP`, queries: served.queries, samples: SAMPLES, warmups: 2 };
      }),
    );
    // Last in the list, so first in each round (the rounds run it reversed), as an earlier build is.
    if (DIRECT) loaded.push({ name: 'direct (no rollups), as functions', db, queries: await directQueries(), samples: DIRECT_SAMPLES, warmups: 1, direct: true });
    const results: { build: string; direct: boolean; repeat: number; query: string; rows: number; p50: number; p99: number; min: number }[] = [];
    for (let r = 1; r <= REPEAT; r++) {
      // The earlier build first in each round: whichever runs second meets warmer caches.
      for (const b of [...loaded].reverse()) {
        for (const name of QUERIES) {
          const q = b.queries[name];
          if (!q) throw new Error(`unknown query ${name}`);
          const scope = q.scope(tenantId);
          for (let i = 0; i < b.warmups; i++) await q.run(b.db, scope, from, to);
          const ms: number[] = [];
          let rows = 0;
          for (let i = 0; i < b.samples; i++) {
            const t = performance.now();
            rows = await q.run(b.db, scope, from, to);
            ms.push(performance.now() - t);
          }
          ms.sort((x, y) => x - y);
          const res = { build: b.name, direct: b.direct === true, repeat: r, query: name, rows, p50: percentile(ms, 50), p99: percentile(ms, 99), min: ms[0]! };
          process.stderr.write(`[${b.name} #${r}] ${name}: p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)}, min ${res.min.toFixed(1)} (${rows} rows)\n`);
          results.push(res);
        }
      }
    }
    const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
    const lines = [
      `Fleet queries, ${new Date().toISOString()}: ${span!.chargers} chargers, ${Math.min(span!.days, 365)} days, ${SAMPLES} calls each after 2 warm-ups${DIRECT ? ` (the direct computation ${DIRECT_SAMPLES} after 1)` : ''}, p50 / p99 ms, builds alternating ${REPEAT}×.`,
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
    for (const stop of servers) await stop();
    await other?.release();
    await release();
    await target.drop?.();
  }
}

void main();
