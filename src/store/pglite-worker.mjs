// Runs PGlite (PostgreSQL compiled to WASM) off the main thread: a slow dashboard
// query then blocks this worker, never the event loop that answers chargers.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

// PGlite (Emscripten's NODEFS) writes each file and then chmods it 0666 itself, so neither the
// umask nor a chmod at start keeps the files it makes later private. This worker runs nothing
// but PGlite, and NODEFS reaches fs through the module object: every mode it asks for is
// narrowed here to the owner (files 0600, directories 0700).
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const fileMode = (mode) => (typeof mode === 'number' ? mode & 0o600 : mode);
const dirMode = (mode) => (typeof mode === 'number' ? mode & 0o700 : mode);
const anyMode = (mode) => ((mode & S_IFMT) === S_IFDIR ? dirMode(mode) : (mode & S_IFMT) ? fileMode(mode) : mode & ~0o077);
const withMode = (options, narrow) =>
  typeof options === 'object' && options !== null && typeof options.mode === 'number' ? { ...options, mode: narrow(options.mode) } : options;
for (const [name, wrap] of Object.entries({
  chmodSync: (orig) => (path, mode) => orig(path, typeof mode === 'number' ? anyMode(mode) : mode),
  fchmodSync: (orig) => (fd, mode) => orig(fd, typeof mode === 'number' ? anyMode(mode) : mode),
  mkdirSync: (orig) => (path, options) => orig(path, typeof options === 'number' ? dirMode(options) : withMode(options, dirMode)),
  writeFileSync: (orig) => (path, data, options) => orig(path, data, withMode(options, fileMode)),
  openSync: (orig) => (path, flags, mode) => orig(path, flags, fileMode(mode)),
})) {
  fs[name] = wrap(fs[name].bind(fs));
}

const db = new PGlite(workerData.dataDir ?? undefined);

function errorToPlain(err) {
  return {
    message: err?.message ?? String(err),
    code: err?.code,
    constraint: err?.constraint,
    detail: err?.detail,
  };
}

try {
  await db.waitReady;
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ ready: false, error: errorToPlain(err) });
}

parentPort.on('message', async ({ id, op, sql, params }) => {
  try {
    if (op === 'query') {
      const result = await db.query(sql, params ?? []);
      parentPort.postMessage({ id, rows: result.rows });
    } else if (op === 'exec') {
      await db.exec(sql);
      parentPort.postMessage({ id, rows: [] });
    } else if (op === 'close') {
      await db.close();
      parentPort.postMessage({ id, rows: [] });
    }
  } catch (err) {
    parentPort.postMessage({ id, error: errorToPlain(err) });
  }
});
