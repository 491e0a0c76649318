import { afterEach, describe, expect, it } from 'vitest';
import { BusError, BusTimeoutError, NoResponderError, type Bus } from '../src/cluster/bus.js';
import { InProcessBus, InProcessHub } from '../src/cluster/in-process-bus.js';
import { NatsBus } from '../src/cluster/nats-bus.js';
import { eventually } from './support/history.js';
import { TEST_NATS_URL, natsPrefix } from './support/nats.js';

/** Two nodes on one bus of each kind: the same contract holds for both (src/cluster/bus.ts). */
const kinds: Record<string, () => Promise<(id: string) => Promise<Bus>>> = {
  'in process': async () => {
    const hub = new InProcessHub();
    return async (id) => new InProcessBus(id, hub);
  },
  NATS: async () => {
    const prefix = natsPrefix();
    return (id) => NatsBus.connect({ url: TEST_NATS_URL, prefix, nodeId: id });
  },
};

for (const [kind, factory] of Object.entries(kinds)) {
  describe(`the node bus (${kind})`, () => {
    const open: Bus[] = [];
    const node = async (id: string) => {
      const b = await (await factory())(id);
      open.push(b);
      return b;
    };
    const pair = async () => {
      const f = await factory();
      const a = await f('node_a');
      const b = await f('node_b');
      open.push(a, b);
      return [a, b] as const;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    it('carries a request to the node it names and its answer back, as JSON', async () => {
      const [a, b] = await pair();
      await b.answer('echo', async (body) => ({ got: body, at: 'node_b' }));
      await a.answer('echo', async () => ({ at: 'node_a' }));
      expect(await a.request('node_b', 'echo', { n: 1, d: new Date(0) }, 5_000)).toEqual({ got: { n: 1, d: '1970-01-01T00:00:00.000Z' }, at: 'node_b' });
      expect(await b.request('node_a', 'echo', null, 5_000)).toEqual({ at: 'node_a' });
    });

    it('fails at once with NoResponderError for a node nobody answers for, and after close', async () => {
      const [a, b] = await pair();
      await b.answer('echo', async () => 'here');
      const t0 = Date.now();
      await expect(a.request('node_gone', 'echo', {}, 20_000)).rejects.toBeInstanceOf(NoResponderError);
      expect(Date.now() - t0).toBeLessThan(15_000);
      await b.close();
      await expect(a.request('node_b', 'echo', {}, 20_000)).rejects.toBeInstanceOf(NoResponderError);
    });

    it('times out a node that does not answer in time, and reports a failing handler as a BusError', async () => {
      const [a, b] = await pair();
      await b.answer('slow', () => new Promise((r) => setTimeout(() => r('late'), 1_500)));
      await b.answer('broken', async () => {
        throw new Error('handler broke');
      });
      await expect(a.request('node_b', 'slow', {}, 200)).rejects.toBeInstanceOf(BusTimeoutError);
      const err = await a.request('node_b', 'broken', {}, 5_000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusError);
      expect(err).not.toBeInstanceOf(NoResponderError);
      expect((err as Error).message).toMatch(/handler broke/);
    });

    it('broadcasts to every listening node, the sender included, until a listener stops', async () => {
      const [a, b] = await pair();
      const heard: string[] = [];
      const stopA = a.listen('wake.events', (body) => heard.push(`a:${(body as { n: number }).n}`));
      b.listen('wake.events', (body) => heard.push(`b:${(body as { n: number }).n}`));
      b.listen('wake.other', () => heard.push('wrong topic'));
      await eventually(async () => (a.broadcast('wake.events', { n: 1 }), heard.length), (n) => n >= 2, 5_000);
      expect(heard.filter((h) => h.startsWith('a:')).length).toBeGreaterThan(0);
      expect(heard.filter((h) => h.startsWith('b:')).length).toBeGreaterThan(0);
      expect(heard).not.toContain('wrong topic');
      stopA();
      heard.length = 0;
      b.broadcast('wake.events', { n: 2 });
      await eventually(async () => heard, (h) => h.includes('b:2'), 5_000);
      expect(heard).not.toContain('a:2');
    });

    it('close waits for answers being worked on', async () => {
      const [a, b] = await pair();
      let started = false;
      let finished = false;
      await b.answer('work', () => ((started = true), new Promise((r) => setTimeout(() => r((finished = true)), 300))));
      const answer = a.request('node_b', 'work', {}, 10_000);
      await eventually(async () => started, Boolean, 5_000);
      await b.close();
      expect(finished).toBe(true);
      expect(await answer).toBe(true);
    });
  });
}

describe('the NATS bus, connecting', () => {
  it('names the server, never its credentials, when NATS is unreachable', async () => {
    const err = await NatsBus.connect({ url: 'nats://someone:s3cret-pass@127.0.0.1:1', prefix: 'x', nodeId: 'node_x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusError);
    expect((err as Error).message).toMatch(/NATS at 127\.0\.0\.1:1 is unreachable/);
    expect((err as Error).message).not.toMatch(/s3cret/);
  });
});
