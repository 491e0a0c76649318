/**
 * JSON written straight into bytes, for answers too large to build as objects first (a site's daily
 * month is 31,000 buckets). Serialised from objects, most of the server's CPU for such a request
 * went to the collector, to flattening the serialiser's string to measure it (Fastify's
 * content-length) and to encoding it again for the socket (docs/benchmarks.md, "Large answers
 * written as bytes"). The text is exactly JSON.stringify's for the same values
 * (test/json-bytes.test.ts).
 */
export class JsonBytes {
  private buf: Buffer;
  private pos = 0;

  /** `sizeHint`: the expected length in bytes; the buffer grows when it is short. */
  constructor(sizeHint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(256, Math.ceil(sizeHint)));
  }

  /** Text known in advance (punctuation and keys), made once with `jsonToken`. */
  raw(token: Uint8Array): this {
    this.reserve(token.length);
    // A loop, not set(): the tokens are a few bytes (in a CPU profile of 42 daily utilisations of a
    // site, this function's own time fell from 281 to 96 ms with the loop; scratch).
    const { buf, pos } = this;
    for (let i = 0; i < token.length; i++) buf[pos + i] = token[i]!;
    this.pos += token.length;
    return this;
  }

  string(s: string): this {
    // Printable ASCII without a quote or a backslash (every id these answers hold) is its own JSON.
    this.reserve(s.length + 2);
    const { buf } = this;
    let pos = this.pos;
    buf[pos++] = QUOTE;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return this.escaped(s);
      buf[pos++] = c;
    }
    buf[pos++] = QUOTE;
    this.pos = pos;
    return this;
  }

  /**
   * A number as JSON.stringify writes it (NaN and infinities as null). Integers and numbers of one
   * decimal, every figure of these answers, are written digit by digit: String() of a fraction costs
   * more than the rest of a bucket.
   */
  number(n: number | null): this {
    if (n === null || !Number.isFinite(n)) return this.raw(NULL);
    if (Number.isSafeInteger(n)) return this.integer(n);
    const tenths = Math.round(n * 10);
    if (Math.abs(n) < 2 ** 49 && tenths / 10 === n) {
      // n is the double nearest to the decimal tenths/10; below 2^49 doubles lie less than 0.1 apart,
      // so no other decimal of one place is as near, and the shortest text that reads back as n (what
      // JSON.stringify writes) is that decimal.
      if (tenths < 0) this.byte(MINUS);
      const t = Math.abs(tenths);
      return this.integer(Math.floor(t / 10))
        .byte(DOT)
        .byte(ZERO + (t % 10));
    }
    const text = String(n);
    this.reserve(text.length);
    this.pos += this.buf.write(text, this.pos, 'latin1');
    return this;
  }

  /** The JSON written so far (the buffer's own memory, not a copy). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private escaped(s: string): this {
    const text = JSON.stringify(s);
    this.reserve(Buffer.byteLength(text));
    this.pos += this.buf.write(text, this.pos, 'utf8');
    return this;
  }

  private integer(n: number): this {
    if (n < 0) {
      this.byte(MINUS);
      n = -n;
    }
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.reserve(digits);
    for (let i = this.pos + digits - 1; i >= this.pos; i--) {
      this.buf[i] = ZERO + (n % 10);
      n = Math.floor(n / 10);
    }
    this.pos += digits;
    return this;
  }

  private byte(b: number): this {
    this.reserve(1);
    this.buf[this.pos++] = b;
    return this;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

/** JSON text to pass to `raw` (ASCII punctuation and keys, encoded once). */
export const jsonToken = (text: string): Uint8Array => Buffer.from(text, 'utf8');

const NULL = jsonToken('null');
const [QUOTE, MINUS, DOT, ZERO, BACKSLASH] = [34, 45, 46, 48, 92];
