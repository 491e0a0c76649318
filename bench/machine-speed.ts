// How fast this machine is right now, core by core, for benches whose target is an absolute figure
// (the 50,000-charger p99) and so have no baseline of their own in the run. The machines these
// benches run on are shared virtual machines: each core moves between two speeds, about 1.7 apart,
// within seconds (docs/benchmarks.md, "The machine's cores change speed"); two reports can be
// compared only beside these figures.
//
// Fixed, single-threaded CPU work, pinned to each core in turn (taskset), timed on an otherwise
// idle machine before the bench loads it: in Node, the JSON round trip a message makes (parse and
// stringify of an OCPP MeterValues frame); in a PostgreSQL backend, hashing and a jsonb round trip
// over generated rows. Pinning the backend needs the server on this machine and the right to set
// its affinity; without them the backend runs wherever the kernel puts it, and the report says so.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { withClient } from './throwaway-database.js';
import { percentile } from './sim-charger.js';

export interface CoreSpeed {
  cpu: number;
  /** Median ms for 100,000 JSON round trips of a MeterValues frame. */
  nodeMs: number;
  /** Median ms of the fixed statement's execution in one PostgreSQL backend; null if the backend could not be pinned. */
  postgresMs: number | null;
}

const FRAME = JSON.stringify([2, 'm-1', 'MeterValues', {
  connectorId: 1,
  transactionId: 4242,
  meterValue: [{ timestamp: '2026-12-04T12:00:00.000Z', sampledValue: [{ value: '12345.6', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
}]);

/** The median of the finite values (NaN if none). */
export const median = (xs: number[]) => percentile(xs.filter(Number.isFinite).sort((a, b) => a - b), 50);

/** Milliseconds for `count` JSON round trips of the frame: the fixed work of both measures below. */
function roundTripsMs(count: number): number {
  const t = performance.now();
  let n = 0;
  for (let i = 0; i < count; i++) n += JSON.stringify(JSON.parse(FRAME)).length;
  if (n === 0) throw new Error('unreachable'); // keeps the loop's work observable
  return performance.now() - t;
}

const REPETITIONS = 5;

// EXPLAIN ANALYZE's own execution time: the backend's work, without the client round trip.
const STATEMENT = `EXPLAIN (ANALYZE, FORMAT JSON, TIMING OFF)
  SELECT count(DISTINCT md5(i::text)), sum(jsonb_array_length(jsonb_build_array(i, i::text, i * 2)))
    FROM generate_series(1, 200000) AS i`;

const SELF = fileURLToPath(import.meta.url);

export async function machineSpeed(pgUrl: string): Promise<CoreSpeed[]> {
  return withClient(pgUrl, async (c) => {
    const { rows: [backend] } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const speeds: CoreSpeed[] = [];
    for (let cpu = 0; cpu < cpus().length; cpu++) {
      const node = Number(execFileSync('taskset', ['-c', String(cpu), process.execPath, SELF, '--node-only'], { encoding: 'utf8' }));
      let postgresMs: number | null = null;
      try {
        execFileSync('taskset', ['-p', '-c', String(cpu), String(backend!.pid)], { stdio: 'ignore' });
        const times: number[] = [];
        for (let i = 0; i < REPETITIONS; i++) {
          const { rows } = await c.query<{ 'QUERY PLAN': [{ 'Execution Time': number }] }>(STATEMENT);
          times.push(rows[0]!['QUERY PLAN'][0]['Execution Time']);
        }
        postgresMs = median(times);
      } catch {
        // not this machine's server, or not ours to pin: the Node figure stands alone
      }
      speeds.push({ cpu, nodeMs: node, postgresMs });
    }
    return speeds;
  });
}

/**
 * The machine's speed second by second while a bench runs: every 100 ms this process times 100 JSON
 * round trips (about 0.2 ms of work, so 0.2 % of a core); each second keeps the fastest of its ten,
 * since a slower one was most likely preempted by the bench's own load. What remains is how fast a
 * core ran: on these machines it moves between two levels, about 1.7 apart, within seconds.
 */
export function startSpeedProbe(): { stop(): number[] } {
  const perSecond: number[] = [];
  const t0 = performance.now();
  const timer = setInterval(() => {
    const second = Math.floor((performance.now() - t0) / 1000);
    perSecond[second] = Math.min(perSecond[second] ?? Infinity, roundTripsMs(100) * 1000);
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return Array.from(perSecond, (us) => Math.round(us ?? NaN));
    },
  };
}

export const describeMachineSpeed = (speeds: CoreSpeed[], when = 'before the run') =>
  `machine speed ${when} (bench/machine-speed.ts, median of ${REPETITIONS}, pinned to each core): ${speeds
    .map((s) => `CPU ${s.cpu} Node ${s.nodeMs.toFixed(0)} ms, PostgreSQL ${s.postgresMs === null ? 'n/a' : `${s.postgresMs.toFixed(0)} ms`}`)
    .join('; ')}`;

// node dist/bench/machine-speed.js: the figures alone, to follow the machine between runs.
if (process.argv[1] === SELF) {
  if (process.argv[2] === '--node-only') {
    process.stdout.write(String(median(Array.from({ length: REPETITIONS }, () => roundTripsMs(100_000)))));
  } else {
    const { BENCH_PG_URL } = await import('./bench-fleet.js');
    process.stdout.write(`${new Date().toISOString()} ${describeMachineSpeed(await machineSpeed(BENCH_PG_URL))}\n`);
  }
}
