import { ulid } from 'ulid';

export type IdPrefix = 'site' | 'ten' | 'key' | 'evt' | 'mnt' | 'node' | 'alr' | 'alt' | 'whe' | 'whd' | 'cmd' | 'cmb';

/** Time-ordered, URL-safe ids with a type prefix: `site_01HZ4K8XVP…`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}
