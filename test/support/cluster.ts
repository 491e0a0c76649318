import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, type ServerProcess } from './cli.js';
import { ADMIN_KEY } from './service.js';

export interface ClusterNode {
  proc: ServerProcess;
  url: string;
  wsUrl: string;
  nodeId: string;
}

/**
 * `count` real `dynamo serve` processes on one PostgreSQL database and one NATS (a subject prefix
 * of their own), started side by side as a rolling deployment would have them.
 */
export async function startCluster(count: number, env: Record<string, string>): Promise<{ nodes: ClusterNode[]; stop: () => Promise<void> }> {
  const dirs = await Promise.all(Array.from({ length: count }, () => mkdtemp(join(tmpdir(), 'dynamo-cluster-'))));
  const started = await Promise.allSettled(
    dirs.map((dir) =>
      spawnServer({ DYNAMO_ADMIN_KEY: ADMIN_KEY, PORT: '0', DYNAMO_DATA_DIR: dir, DYNAMO_RATE_LIMIT: '1000000', DYNAMO_DB_POOL_SIZE: '4', ...env }),
    ),
  );
  const procs = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => {
    await Promise.all(
      procs.map(async (p) => {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
        await p.exited;
      }),
    );
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  const nodes = procs.map((proc) => {
    const nodeId = /Node:\s+(node_\w+)/.exec(proc.output())?.[1];
    if (!nodeId) throw new Error(`no node id in the output:\n${proc.output()}`);
    return { proc, url: proc.url, wsUrl: `${proc.url.replace(/^http/, 'ws')}/ocpp`, nodeId };
  });
  return { nodes, stop };
}
