// tsc compiles code only; the SQL migrations and functions travel beside the compiled store.
import { cp } from 'node:fs/promises';
await cp('src/store/migrations', 'dist/src/store/migrations', { recursive: true });
await cp('src/store/functions', 'dist/src/store/functions', { recursive: true });
await cp('src/sim/history-backfill.sql', 'dist/src/sim/history-backfill.sql');
