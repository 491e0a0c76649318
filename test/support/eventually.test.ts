import { describe, expect, it } from 'vitest';
import { eventually } from './history.js';

describe('the eventually helper of the tests', () => {
  it('returns the first value that holds', async () => {
    let n = 0;
    expect(await eventually(async () => ++n, (v) => v >= 3, 2_000)).toBe(3);
  });

  it('fails with the last value seen when it never holds, instead of returning it', async () => {
    let n = 0;
    await expect(eventually(async () => ({ polls: ++n }), (v) => v.polls > 1_000, 300)).rejects.toThrow(/not true after 300 ms; last value: \{"polls":\d+\}/);
  });
});
