// Compares two V8 .cpuprofile files per message: self time per function divided by the messages each run handled.
// Usage: node scripts/cpuprofile-diff.mjs <new.cpuprofile> <messages> <old.cpuprofile> <messages>
import { readFileSync } from 'node:fs';
function load(file) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const fn = new Map();
  for (const [id, t] of self) {
    const n = byId.get(id);
    const u = n.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, '');
    const k = `${n.callFrame.functionName || '(anon)'} ${u}:${n.callFrame.lineNumber + 1}`;
    fn.set(k, (fn.get(k) ?? 0) + t);
  }
  return fn;
}
const [a, na, b, nb] = process.argv.slice(2);
const A = load(a), B = load(b);
const rows = [];
for (const k of new Set([...A.keys(), ...B.keys()])) rows.push([k, (A.get(k) ?? 0) / Number(na), (B.get(k) ?? 0) / Number(nb)]);
rows.sort((x, y) => (y[1] - y[2]) - (x[1] - x[2]));
console.log('µs per message: new old diff');
for (const [k, x, y] of rows.slice(0, 40)) console.log(x.toFixed(1).padStart(7), y.toFixed(1).padStart(7), (x - y).toFixed(1).padStart(7), k);
let sa = 0, sb = 0; for (const [, x, y] of rows) { sa += x; sb += y; } console.log('total', sa.toFixed(0), sb.toFixed(0));
