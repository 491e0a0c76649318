import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (pw: string | Buffer, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

// N=2^14, r=8, p=1: the interactive-login parameters of RFC 7914 §2 (about 16 MiB, tens of ms).
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const SCRYPT_KEYLEN = 32;

/** A new secret API key. The key is 32 random bytes; `prefix` identifies it in listings. */
export function generateApiKey(kind: 'admin' | 'tenant'): { key: string; prefix: string } {
  const secret = randomBytes(32).toString('base64url');
  const key = `dyn_${kind === 'admin' ? 'adm' : 'key'}_${secret}`;
  return { key, prefix: key.slice(0, 16) };
}

/** Keys are high-entropy random strings, so a plain SHA-256 is not brute-forceable and allows lookup by hash. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function safeEqualHex(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** Charger passwords may be short or human-chosen: slow hash, encoded `scrypt$N$r$p$salt$hash`. */
export async function hashPassword(password: string | Buffer): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT_KEYLEN, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string | Buffer, encoded: string): Promise<boolean> {
  const [alg, n, r, p, saltB64, hashB64] = encoded.split('$');
  if (alg !== 'scrypt' || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, 'base64');
  const actual = await scryptAsync(password, Buffer.from(saltB64, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}
