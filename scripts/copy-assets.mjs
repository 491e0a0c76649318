// tsc compiles code only; the SQL migrations and functions travel beside the compiled store.
// Each folder is replaced, not merged: a file renamed or removed in src must not live on in dist
// (a renamed migration would otherwise be there twice, under one version number).
import { cp, rm } from 'node:fs/promises';
for (const dir of ['src/store/migrations', 'src/store/functions']) {
  await rm(`dist/${dir}`, { recursive: true, force: true });
  await cp(dir, `dist/${dir}`, { recursive: true });
}
await cp('src/sim/history-backfill.sql', 'dist/src/sim/history-backfill.sql');
