// Restores lockfile entries for optional platform packages that the registry
// mirror of our build machines does not carry (it serves rollup's linux-x64/arm64
// gnu binaries only). npm install silently skips optional packages it cannot
// fetch, and then `npm ci` refuses the lockfile as out of sync. The entries added
// here are what the public registry would have written (minus integrity hashes);
// npm skips them on any platform they do not fit. Run after `npm install`:
//   node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const LIBC = { gnu: 'glibc', gnueabihf: 'glibc', musl: 'musl', musleabihf: 'musl' };
const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key] || lock.packages[`${path}/${key}`]) continue;
    const m = /^@rollup\/rollup-([a-z0-9]+)-([a-z0-9]+)(?:-([a-z]+))?$/.exec(name);
    if (!m) continue;
    const [, os, cpu, abi] = m;
    lock.packages[key] = {
      version,
      cpu: [cpu],
      dev: entry.dev || undefined,
      license: 'MIT',
      optional: true,
      os: [os],
      ...(LIBC[abi] ? { libc: [LIBC[abi]] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`complete-lockfile: added ${added} optional platform entries`);
