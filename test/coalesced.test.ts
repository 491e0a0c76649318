import { describe, expect, it } from 'vitest';
import { Coalesced } from '../src/coalesced.js';
import { Slots } from '../src/events/webhooks/slots.js';

/** A task whose runs the test finishes by hand, recording what each run saw. */
function aManualTask() {
  const finishes: (() => void)[] = [];
  let state = 0;
  const seen: number[] = [];
  const task = new Coalesced(
    () =>
      new Promise<void>((resolve) => {
        seen.push(state);
        finishes.push(resolve);
      }),
    () => {},
  );
  return { task, seen, finish: () => finishes.shift()!(), set: (v: number) => (state = v) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Coalesced: run on demand, never twice at once', () => {
  it('settled() resolves only after a run that began after the call, not the one under way', async () => {
    const t = aManualTask();
    t.task.run();
    await tick();
    t.set(1);
    let settled = false;
    void t.task.settled().then(() => (settled = true));
    t.finish(); // the run under way began before the change
    await tick();
    expect(settled).toBe(false);
    expect(t.seen).toEqual([0, 1]);
    t.finish();
    await tick();
    expect(settled).toBe(true);
  });

  it('many hints while a run is under way cost one more run; stop releases waiters', async () => {
    const t = aManualTask();
    t.task.run();
    t.task.run();
    t.task.run();
    const waiting = t.task.settled();
    await tick();
    expect(t.seen).toHaveLength(1);
    const stopped = t.task.stop();
    t.finish();
    await stopped;
    await waiting; // resolved by stop(), without the extra run
    expect(t.seen).toHaveLength(1);
  });
});

describe('Slots: bounded holders', () => {
  it('a waiter that is stopped leaves the queue; the slot goes to the next one', async () => {
    const slots = new Slots(1);
    const release = await slots.acquire();
    const stop = new AbortController();
    const gaveUp = slots.acquire(stop.signal);
    let second: (() => void) | undefined;
    const next = slots.acquire().then((r) => (second = r));
    stop.abort(new Error('stopped'));
    await expect(gaveUp).rejects.toThrow('stopped');
    release();
    await next;
    expect(second).toBeTypeOf('function');
    await expect(slots.acquire(stop.signal)).rejects.toThrow('stopped');
  });
});
