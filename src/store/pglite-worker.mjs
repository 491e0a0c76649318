// Runs PGlite (PostgreSQL compiled to WASM) off the main thread: a slow dashboard
// query then blocks this worker, never the event loop that answers chargers.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

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
