// npm run bench:fsync-latency — what the disk under PostgreSQL's WAL charges for one commit's flush,
// and how often it charges far more. Every commit (synchronous_commit on) waits for a WAL flush
// (fdatasync); a flush that stalls holds every commit queued behind it (LWLock:WALWrite), so the
// tail of this distribution is a floor under the tail of every answer that commits
// (docs/benchmarks.md, "50,000 chargers: shared buffers, checkpoints and the WAL flush").
// Appends 8 KiB and calls fdatasync, one after another, as a WAL writer does.
//
//   node dist/bench/fsync-latency.js [--dir /var/lib/postgresql] [--seconds 60]
import { closeSync, existsSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { benchArgs } from './args.js';
import { writeResult } from './results.js';
import { percentile } from './sim-charger.js';

const args = benchArgs();
const DIR = args.get('dir') ?? (existsSync('/var/lib/postgresql') ? '/var/lib/postgresql' : tmpdir());
const SECONDS = Number(args.get('seconds') ?? 60);
const BLOCK = Buffer.alloc(8192, 7);

const dir = mkdtempSync(join(DIR, 'dynamo-fsync-'));
const file = join(dir, 'wal');
const fd = openSync(file, 'w');
const ms: number[] = [];
const slowAt: { second: number; ms: number }[] = [];
const start = performance.now();
try {
  while (performance.now() - start < SECONDS * 1000) {
    writeSync(fd, BLOCK);
    const t = performance.now();
    fdatasyncSync(fd);
    const d = performance.now() - t;
    ms.push(d);
    if (d > 50) slowAt.push({ second: Math.floor((t - start) / 1000), ms: Math.round(d) });
  }
} finally {
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
}
const sorted = [...ms].sort((a, b) => a - b);
const pct = (p: number) => percentile(sorted, p);
const over = (limit: number) => ms.filter((d) => d > limit).length;
const f = (n: number) => n.toFixed(2);
const result = {
  dir: DIR,
  seconds: SECONDS,
  flushes: ms.length,
  p50: pct(50),
  p99: pct(99),
  p999: pct(99.9),
  max: sorted.at(-1) ?? 0,
  over10: over(10),
  over50: over(50),
  over100: over(100),
  slowAt,
};
const lines = [
  `fsync latency, ${new Date().toISOString()}: 8 KiB appended then fdatasync, back to back, ${SECONDS} s, in ${DIR}.`,
  `Command: node dist/bench/fsync-latency.js ${process.argv.slice(2).join(' ')}`,
  '',
  '| flushes | p50 ms | p99 ms | p99.9 ms | max ms | over 10 ms | over 50 ms | over 100 ms |',
  '|---|---|---|---|---|---|---|---|',
  `| ${result.flushes} | ${f(result.p50)} | ${f(result.p99)} | ${f(result.p999)} | ${f(result.max)} | ${result.over10} | ${result.over50} | ${result.over100} |`,
  '',
  `Flushes over 50 ms (second: ms): ${slowAt.map((s) => `${s.second}: ${s.ms}`).join(', ') || 'none'}`,
];
process.stdout.write(lines.join('\n') + '\n');
await writeResult('fsync-latency', { command: process.argv.slice(2), result }, lines.join('\n') + '\n');
