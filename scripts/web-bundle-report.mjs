// After `vite build`: writes .gz and .br beside every text asset of dist/web (served as they are
// by @fastify/static, preCompressed) and reports the compressed size of what each page loads:
// the sign-in page (index.html and the entry chunk with its static imports), and each page
// module on top of it. The Vite manifest is moved out of the served folder. Goal (issue 14):
// the first page under 150 KiB gzip. Report: dist/web-report/bundle.json; printed as a table.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const WEB = fileURLToPath(new URL('../dist/web', import.meta.url));
const OUT = fileURLToPath(new URL('../dist/web-report', import.meta.url));
export const FIRST_PAGE_BUDGET = 150 * 1024;

async function files(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else out.push(p);
  }
  return out;
}

await mkdir(OUT, { recursive: true });
await rename(join(WEB, '.vite', 'manifest.json'), join(OUT, 'manifest.json'));
await rm(join(WEB, '.vite'), { recursive: true, force: true });
const manifest = JSON.parse(await readFile(join(OUT, 'manifest.json'), 'utf8'));

const sizes = {};
for (const f of await files(WEB)) {
  if (!/\.(js|css|html|svg|json)$/.test(f)) continue;
  const raw = await readFile(f);
  const gz = gzipSync(raw, { level: 9 });
  const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  await writeFile(`${f}.gz`, gz);
  await writeFile(`${f}.br`, br);
  sizes[relative(WEB, f)] = { raw: raw.length, gzip: gz.length, brotli: br.length };
}

/** A chunk and every chunk it imports statically (what the browser must fetch before it runs). */
function closure(key, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const i of manifest[key]?.imports ?? []) closure(i, seen);
  return seen;
}
const filesOf = (keys) => {
  const out = new Set();
  for (const k of keys) {
    const m = manifest[k];
    if (!m) continue;
    out.add(m.file);
    for (const c of m.css ?? []) out.add(c);
  }
  return out;
};
const total = (set, kind) => [...set].reduce((n, f) => n + (sizes[f]?.[kind] ?? 0), 0);

const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
const shell = filesOf(closure(entry));
shell.add('index.html');
const pages = {};
for (const key of Object.keys(manifest).filter((k) => /src\/(pages|sections)\//.test(k) && manifest[k].isDynamicEntry)) {
  const set = new Set([...shell, ...filesOf(closure(key))]);
  pages[key.replace(/^src\//, '')] = { files: [...set], gzip: total(set, 'gzip'), brotli: total(set, 'brotli'), raw: total(set, 'raw') };
}
const report = {
  budget_gzip: FIRST_PAGE_BUDGET,
  sign_in: { files: [...shell], gzip: total(shell, 'gzip'), brotli: total(shell, 'brotli'), raw: total(shell, 'raw') },
  pages,
  assets: sizes,
};
await writeFile(join(OUT, 'bundle.json'), JSON.stringify(report, null, 2) + '\n');

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const rows = [['sign-in (first load)', report.sign_in], ...Object.entries(pages).map(([k, v]) => [`+ ${k}`, v])];
console.log('dashboard bundle (what each page loads, shell included):');
for (const [name, v] of rows) console.log(`  ${name.padEnd(34)} gzip ${kib(v.gzip).padStart(10)}  brotli ${kib(v.brotli).padStart(10)}  raw ${kib(v.raw).padStart(10)}`);
const overview = pages['pages/overview.tsx'];
if (overview && overview.gzip > FIRST_PAGE_BUDGET) {
  console.warn(`web-bundle-report: the overview loads ${kib(overview.gzip)} gzip, over the ${kib(FIRST_PAGE_BUDGET)} goal`);
}
