// Where every benchmark writes its report: bench/results/<name>-<time>.json (and .md when it has a
// table), announced as "written <file>" on stderr, which the suite reads to find it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const DIR = new URL('../../bench/results/', import.meta.url).pathname;

export async function writeResult(name: string, data: unknown, markdown?: string): Promise<string> {
  await mkdir(DIR, { recursive: true });
  const file = join(DIR, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify(data, null, 2));
  if (markdown !== undefined) await writeFile(file.replace(/\.json$/, '.md'), markdown);
  process.stderr.write(`written ${file}\n`);
  return file;
}

/** A figure over repetitions as "min–max" (one figure when they round alike; n/a when none is finite). */
export function spread(xs: number[], decimals: number): string {
  const ok = xs.filter(Number.isFinite);
  if (ok.length === 0) return 'n/a';
  const lo = Math.min(...ok).toFixed(decimals);
  const hi = Math.max(...ok).toFixed(decimals);
  return lo === hi ? lo : `${lo}–${hi}`;
}
