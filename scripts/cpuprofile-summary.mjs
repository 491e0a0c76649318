// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package/file, and
// the inclusive time of chosen stages (parse, validate, handler, SQL client, answer), so where the
// time of one message goes can be written down. Usage: node scripts/cpuprofile-summary.mjs <file> [top]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const top = Number(topArg ?? 25);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
const dts = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dts[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const where = (n) => {
  const u = n.callFrame.url || '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (m) return m[1];
  if (u.startsWith('node:')) return u;
  const d = /\/(dist\/.*)$/.exec(u);
  return d ? d[1] : u;
};
const fn = new Map();
const pkg = new Map();
for (const [id, t] of self) {
  const n = byId.get(id);
  const k = `${n.callFrame.functionName || '(anon)'} ${where(n)}:${n.callFrame.lineNumber + 1}`;
  fn.set(k, (fn.get(k) ?? 0) + t);
  const p = ['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName) ? n.callFrame.functionName : where(n);
  pkg.set(p, (pkg.get(p) ?? 0) + t);
}
const pct = (t) => ((100 * t) / total).toFixed(1).padStart(5) + ' %';
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nself time by package / file:');
for (const [k, t] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(t), k);
console.log('\nself time by function:');
for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(t), k);
// Inclusive time of stages: a sample counts for a stage if a frame of that stage is on its stack.
const stages = (process.env.STAGES ?? '').split(',').filter(Boolean);
if (stages.length) {
  const inc = new Map(stages.map((s) => [s, 0]));
  for (const [id, t] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      const label = `${n.callFrame.functionName} ${n.callFrame.url}`;
      for (const s of stages) if (!seen.has(s) && label.includes(s)) (seen.add(s), inc.set(s, inc.get(s) + t));
    }
  }
  console.log('\ninclusive time of stages:');
  for (const [s, t] of inc) console.log(pct(t), s);
}
