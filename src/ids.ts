import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

export type IdPrefix = 'site' | 'ten' | 'key' | 'evt' | 'mnt' | 'node' | 'alr' | 'alt' | 'whe' | 'whd' | 'cmd' | 'cmb';

// ulid() asks crypto.getRandomValues for each of its 16 random characters by default, which cost
// more than the rest of a StatusNotification's handling in the ingest profile (docs/benchmarks.md):
// the same CSPRNG bytes are drawn 4 KiB at a time instead.
const pool = Buffer.alloc(4096);
let next = pool.length;
function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

/** Time-ordered, URL-safe ids with a type prefix: `site_01HZ4K8XVP…`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid(undefined, pooledRandom)}`;
}
