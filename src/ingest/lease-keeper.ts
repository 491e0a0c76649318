import type { Logger } from 'pino';
import { hostname } from 'node:os';
import type { Db } from '../store/db.js';
import { markNodeStopped, recoverExpiredNodes, registerNode, renewLease } from '../store/history/nodes.js';

/**
 * Keeps this node's lease fresh and closes the intervals of nodes whose lease
 * lapsed (DESIGN.md §4 durability): a crash never leaves a charger "online".
 */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    readonly nodeId: string,
    private readonly ttlSec: number,
  ) {}

  async start(): Promise<void> {
    await registerNode(this.db, this.nodeId, hostname());
    await this.recover();
    const every = Math.max(1_000, (this.ttlSec * 1000) / 3);
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await markNodeStopped(this.db, this.nodeId);
  }

  private async tick(): Promise<void> {
    try {
      await renewLease(this.db, this.nodeId);
      await this.recover();
    } catch (err) {
      this.log.warn({ err }, 'lease renewal failed');
    }
  }

  private async recover(): Promise<void> {
    const r = await recoverExpiredNodes(this.db, this.nodeId, this.ttlSec);
    if (r.nodes.length > 0) {
      this.log.warn({ nodes: r.nodes, connections: r.connections }, 'closed connections left open by nodes whose lease expired');
    }
  }
}
