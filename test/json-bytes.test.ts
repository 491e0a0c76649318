import { describe, expect, it } from 'vitest';
import { JsonBytes, jsonToken } from '../src/api/answers/json-bytes.js';

/** A seeded generator (mulberry32), so a failure names the values that made it. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('JsonBytes writes what JSON.stringify writes', () => {
  const written = (write: (out: JsonBytes) => void, sizeHint = 0) => {
    const out = new JsonBytes(sizeHint);
    write(out);
    return out.bytes().toString('utf8');
  };
  const numberText = (n: number | null) => written((o) => o.number(n));

  it('numbers: integers, one decimal, other fractions, the edges JSON writes as null or in exponent form', () => {
    const fixed = [0, -0, 1, -1, 9, 10, 99, 100, 1440, 43_200, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 60,
      0.1, -0.1, 0.5, 25.3, 99.9, 100.5, -7.7, 0.15, 1 / 3, 1e-7, 1e21, 123456789.1, 5e-324, Number.MAX_VALUE, NaN, Infinity, -Infinity];
    for (const n of fixed) expect([n, numberText(n)]).toEqual([n, JSON.stringify(n)]);
    expect(numberText(null)).toBe('null');
    const next = random(15);
    for (let i = 0; i < 20_000; i++) {
      const kind = i % 4;
      const n = kind === 0 ? Math.round(next() * 2000) / 10 // a percentage of one decimal
        : kind === 1 ? Math.round((next() - 0.5) * 2e6) / 10
        : kind === 2 ? Math.round((next() - 0.5) * 2 ** 54)
        : (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
      expect([n, numberText(n)]).toEqual([n, JSON.stringify(n)]);
    }
    // Decimals of one place and the doubles either side of them, up to where doubles are 0.1 apart and beyond.
    const bits = new Float64Array(1);
    const asInt = new BigInt64Array(bits.buffer);
    const step = (x: number, by: bigint) => ((bits[0] = x), (asInt[0] = asInt[0]! + by), bits[0]);
    for (let i = 0; i < 5000; i++) {
      const d = (Math.round(next() * 2 ** (10 + (i % 44))) * (next() < 0.5 ? -1 : 1)) / 10;
      for (const n of [d, step(d, 1n), step(d, -1n), step(d, 2n)]) expect([n, numberText(n)]).toEqual([n, JSON.stringify(n)]);
    }
  });

  it('strings: quotes, backslashes, control characters, lone surrogates and characters beyond ASCII', () => {
    for (const s of ['', 'CP-00042', 'a"b\\c', 'line\nbreak\ttab\u0000\u001f', 'Zürich ⚡ 充电', '\ud800 lone', '\u2028\u2029', '😀']) {
      expect(written((o) => o.string(s))).toBe(JSON.stringify(s));
    }
  });

  it('grows past its size hint without losing what it holds', () => {
    const values = Array.from({ length: 5000 }, (_, i) => ({ id: `CP-${i}`, v: i % 3 === 0 ? null : i / 10 }));
    const [open, close, comma, id, v] = ['[', ']', ',', '{"id":', ',"v":'].map(jsonToken);
    const text = written((o) => {
      o.raw(open!);
      values.forEach((x, i) => {
        if (i > 0) o.raw(comma!);
        o.raw(id!).string(x.id).raw(v!).number(x.v).raw(jsonToken('}'));
      });
      o.raw(close!);
    }, 16);
    expect(text).toBe(JSON.stringify(values));
  });
});
