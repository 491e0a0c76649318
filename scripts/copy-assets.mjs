// tsc compiles code only; the SQL migrations travel beside the compiled store.
import { cp } from 'node:fs/promises';
await cp('src/store/migrations', 'dist/src/store/migrations', { recursive: true });
