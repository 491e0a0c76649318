import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { RevokedKeyWatch } from '../src/api/revoked-key-watch.js';
import type { Queryable } from '../src/store/db.js';

const silent = pino({ level: 'silent' });

/** A key table held in memory: answers the watch's one statement, can fail or stall on demand. */
function aKeyTable(active: Set<string>) {
  const state = { fail: false, stall: undefined as Promise<void> | undefined, queries: 0, answered: 0, asked: [] as string[][] };
  const db: Queryable = {
    async query<R>(_sql: string, params?: unknown[]): Promise<R[]> {
      state.queries++;
      const asked = params![0] as string[];
      state.asked.push([...asked].sort());
      // What was active when the statement ran, whatever happens while it is "in flight".
      const rows = asked.filter((k) => active.has(k)).map((key_id) => ({ key_id }));
      try {
        if (state.stall) await state.stall;
        if (state.fail) throw new Error('connection reset');
        return rows as R[];
      } finally {
        state.answered++;
      }
    },
  };
  /** Resolves once `n` more checks have finished (answered or failed), however slow the timers run. */
  const checks = async (n: number) => {
    const target = state.answered + n;
    while (state.answered < target) await sleep(5);
    await sleep(5); // that check's callbacks run after its query answers
  };
  return { db, state, checks };
}

describe('the watch on the keys of open streams (unit)', () => {
  it('ends the streams of a revoked key only, each once, with one query a tick for all keys', async () => {
    const active = new Set(['key_a', 'key_b']);
    const { db, state, checks } = aKeyTable(active);
    const watch = new RevokedKeyWatch(db, 20, silent);
    const ended: string[] = [];
    watch.watch('key_a', () => ended.push('a1'));
    watch.watch('key_a', () => ended.push('a2'));
    watch.watch('key_b', () => ended.push('b'));
    await checks(2);
    expect(ended).toEqual([]);
    expect(state.queries).toBeGreaterThan(0);
    // Each tick is one statement asking after every watched key.
    expect(state.asked.every((keys) => keys.join() === 'key_a,key_b')).toBe(true);
    active.delete('key_a');
    await checks(1);
    expect(ended.sort()).toEqual(['a1', 'a2']);
    await checks(2);
    expect(ended.sort()).toEqual(['a1', 'a2']);
    watch.stop();
  });

  it('closes nothing when the check fails, and closes at the next check that succeeds', async () => {
    const active = new Set<string>();
    const { db, state, checks } = aKeyTable(active);
    state.fail = true;
    const watch = new RevokedKeyWatch(db, 20, silent);
    let ended = 0;
    watch.watch('key_gone', () => ended++);
    await checks(2);
    expect(state.queries).toBeGreaterThan(0);
    expect(ended).toBe(0);
    state.fail = false;
    await checks(1);
    expect(ended).toBe(1);
    watch.stop();
  });

  it('does not take a key first watched while a check ran for revoked; stops asking once nobody watches', async () => {
    const active = new Set(['key_old', 'key_new']);
    const { db, state, checks } = aKeyTable(active);
    let release!: () => void;
    state.stall = new Promise((r) => (release = r));
    const watch = new RevokedKeyWatch(db, 20, silent);
    let endedNew = 0;
    const unwatchOld = watch.watch('key_old', () => {});
    while (state.queries === 0) await sleep(5); // the first check is in flight, asking about key_old alone
    const unwatchNew = watch.watch('key_new', () => endedNew++);
    release();
    state.stall = undefined;
    await checks(1);
    expect(state.asked[0]).toEqual(['key_old']);
    expect(endedNew).toBe(0);
    unwatchOld();
    unwatchNew();
    const asked = state.queries;
    await sleep(70);
    expect(state.queries).toBe(asked);
  });
});
