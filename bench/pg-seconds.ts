// What PostgreSQL was doing second by second through a bench phase, beside the phase's p99 by
// second: its WAL (bytes and full-page images, pg_stat_wal), the checkpoints and the buffers
// backends had to write themselves (pg_stat_bgwriter), and what this database's backends were
// waiting on and which of them were new (pg_stat_activity, sampled every 100 ms), and the machine's
// dirty page cache (/proc/meminfo). A slow second with many full-page images
// after a checkpoint, or with backends waiting on the WAL or on locks, names its cause.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { withClient } from './throwaway-database.js';

export interface PgSecond {
  second: number;
  walKiB: number;
  /** Full-page images: the first change to a page after a checkpoint writes the whole 8 KiB page. */
  fpi: number;
  /** Checkpoints that began (timed or requested) in this second. */
  checkpoints: number;
  /** Buffers a backend had to write out itself to find a free one (shared_buffers too small). */
  backendWrites: number;
  /** Mean number of this database's backends that were active, over the second's samples. */
  active: number;
  /**
   * This database's backends first seen in the second: connections a pool opened. A new backend
   * reads its catalogs and plans its functions' statements before its first answer.
   */
  newBackends: number;
  /** The most frequent wait events of the active backends, `type:event ×samples`. */
  waits: string;
  /**
   * The most file data in the machine's page cache waiting to be written, and being written, in the
   * second (/proc/meminfo Dirty, Writeback; MiB; null where there is no /proc). A WAL flush that
   * must wait behind the kernel's writeback of table files stalls every commit.
   */
  osDirtyMiB: number | null;
  osWritebackMiB: number | null;
}

/** Dirty and Writeback from /proc/meminfo, in MiB; nulls where there is none. */
async function osDirty(): Promise<{ dirty: number | null; writeback: number | null }> {
  try {
    const text = await readFile('/proc/meminfo', 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { dirty: Math.round(kib('Dirty') / 1024), writeback: Math.round(kib('Writeback') / 1024) };
  } catch {
    return { dirty: null, writeback: null };
  }
}

interface Counters {
  walBytes: number;
  fpi: number;
  checkpoints: number;
  backendWrites: number;
}

const SAMPLE_MS = 100;

/** Starts sampling; `stop()` resolves to one row per whole second since the start. */
export async function samplePgSeconds(url: string, database: string): Promise<{ stop(): Promise<PgSecond[]> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const counters = async (): Promise<Counters> => {
    const { rows } = await c.query<{ wal_bytes: string; wal_fpi: string; checkpoints: string; backend_writes: string }>(
      `SELECT w.wal_bytes, w.wal_fpi, b.checkpoints_timed + b.checkpoints_req AS checkpoints, b.buffers_backend AS backend_writes
         FROM pg_stat_wal w, pg_stat_bgwriter b`,
    );
    const r = rows[0]!;
    return { walBytes: Number(r.wal_bytes), fpi: Number(r.wal_fpi), checkpoints: Number(r.checkpoints), backendWrites: Number(r.backend_writes) };
  };
  const start = performance.now();
  const marks: Counters[] = [await counters()];
  const seconds = new Map<number, { samples: number; active: number; waits: Map<string, number>; dirty: number | null; writeback: number | null; newBackends: number }>();
  const backends = async () =>
    (
      await c.query<{ pid: number; active: boolean; wait: string | null }>(
        `SELECT pid, state = 'active' AS active, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [database],
      )
    ).rows;
  // The backends there before the start are not new.
  const known = new Set((await backends()).map((b) => b.pid));
  let running = true;
  const loop = (async () => {
    while (running) {
      const second = Math.floor((performance.now() - start) / 1000);
      if (second >= marks.length) marks.push(await counters());
      const all = await backends();
      const rows = all.filter((r) => r.active);
      const os = await osDirty();
      const s = seconds.get(second) ?? { samples: 0, active: 0, waits: new Map<string, number>(), dirty: null, writeback: null, newBackends: 0 };
      for (const r of all) {
        if (known.has(r.pid)) continue;
        known.add(r.pid);
        s.newBackends++;
      }
      s.samples++;
      if (os.dirty !== null) s.dirty = Math.max(s.dirty ?? 0, os.dirty);
      if (os.writeback !== null) s.writeback = Math.max(s.writeback ?? 0, os.writeback);
      s.active += rows.length;
      for (const r of rows) if (r.wait) s.waits.set(r.wait, (s.waits.get(r.wait) ?? 0) + 1);
      seconds.set(second, s);
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      marks.push(await counters());
      await c.end();
      return marks.slice(1).map((m, i) => {
        const prev = marks[i]!;
        const s = seconds.get(i);
        const waits = [...(s?.waits ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]).slice(0, 3);
        return {
          second: i,
          walKiB: Math.round((m.walBytes - prev.walBytes) / 1024),
          fpi: m.fpi - prev.fpi,
          checkpoints: m.checkpoints - prev.checkpoints,
          backendWrites: m.backendWrites - prev.backendWrites,
          active: s ? Math.round((10 * s.active) / s.samples) / 10 : 0,
          newBackends: s?.newBackends ?? 0,
          waits: waits.map(([w, n]) => `${w} ×${n}`).join(', '),
          osDirtyMiB: s?.dirty ?? null,
          osWritebackMiB: s?.writeback ?? null,
        };
      });
    },
  };
}

/** The settings that decide how PostgreSQL copes with a large fleet's writes, for the report. */
export function pgSettings(url: string): Promise<Record<string, string>> {
  // autovacuum: this machine's server runs without it (docs/benchmarks.md), which a report must say.
  const names = ['server_version', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'synchronous_commit', 'wal_compression', 'full_page_writes', 'autovacuum'];
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[])`,
      [names],
    );
    return Object.fromEntries(names.map((n) => [n, rows.find((r) => r.name === n)?.setting ?? '?']));
  });
}
