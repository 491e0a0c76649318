import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { RevokedKeyWatch } from '../src/api/revoked-key-watch.js';
import type { Queryable } from '../src/store/db.js';

const silent = pino({ level: 'silent' });

/** A key table held in memory: answers the watch's one statement, can fail or stall on demand. */
function aKeyTable(active: Set<string>) {
  const state = { fail: false, stall: undefined as Promise<void> | undefined, queries: 0 };
  const db: Queryable = {
    async query<R>(_sql: string, params?: unknown[]): Promise<R[]> {
      state.queries++;
      const asked = params![0] as string[];
      // What was active when the statement ran, whatever happens while it is "in flight".
      const rows = asked.filter((k) => active.has(k)).map((key_id) => ({ key_id }));
      if (state.stall) await state.stall;
      if (state.fail) throw new Error('connection reset');
      return rows as R[];
    },
  };
  return { db, state };
}

describe('the watch on the keys of open streams (unit)', () => {
  it('ends the streams of a revoked key only, each once, with one query a tick for all keys', async () => {
    const active = new Set(['key_a', 'key_b']);
    const { db, state } = aKeyTable(active);
    const watch = new RevokedKeyWatch(db, 20, silent);
    const ended: string[] = [];
    watch.watch('key_a', () => ended.push('a1'));
    watch.watch('key_a', () => ended.push('a2'));
    watch.watch('key_b', () => ended.push('b'));
    await sleep(70);
    expect(ended).toEqual([]);
    const before = state.queries;
    expect(before).toBeGreaterThan(0);
    active.delete('key_a');
    await sleep(70);
    expect(ended.sort()).toEqual(['a1', 'a2']);
    await sleep(50);
    expect(ended.sort()).toEqual(['a1', 'a2']);
    watch.stop();
  });

  it('closes nothing when the check fails, and closes at the next check that succeeds', async () => {
    const active = new Set<string>();
    const { db, state } = aKeyTable(active);
    state.fail = true;
    const watch = new RevokedKeyWatch(db, 20, silent);
    let ended = 0;
    watch.watch('key_gone', () => ended++);
    await sleep(70);
    expect(state.queries).toBeGreaterThan(0);
    expect(ended).toBe(0);
    state.fail = false;
    await sleep(70);
    expect(ended).toBe(1);
    watch.stop();
  });

  it('does not take a key first watched while a check ran for revoked; stops asking once nobody watches', async () => {
    const active = new Set(['key_old', 'key_new']);
    const { db, state } = aKeyTable(active);
    let release!: () => void;
    state.stall = new Promise((r) => (release = r));
    const watch = new RevokedKeyWatch(db, 20, silent);
    let endedNew = 0;
    const unwatchOld = watch.watch('key_old', () => {});
    await sleep(40); // the first check is in flight, asking about key_old alone
    const unwatchNew = watch.watch('key_new', () => endedNew++);
    release();
    state.stall = undefined;
    await sleep(70);
    expect(endedNew).toBe(0);
    unwatchOld();
    unwatchNew();
    const asked = state.queries;
    await sleep(70);
    expect(state.queries).toBe(asked);
  });
});
