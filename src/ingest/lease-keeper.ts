import type { Logger } from 'pino';
import type { Db, Queryable } from '../store/db.js';
import { holdsOfNode } from '../store/holds.js';
import { markNodeDraining, markNodeStopped, recoverExpiredNodes, registerNode, renewLease, reviveNode, type NodeRegistration } from '../store/history/nodes.js';

/** What the lease learns about the chargers this node holds (docs/operations.md "Cluster"). */
export interface LeaseHooks {
  /** The chargers the database says this node holds (with their connection), as of `queriedAt` (ms). */
  held(holds: ReadonlyMap<string, number>, queriedAt: number): Promise<void>;
  /** Another node presumed this one dead and recovered it: every charger must be let go. */
  fenced(): Promise<void>;
}

/**
 * Keeps this node's lease fresh and closes the intervals of nodes whose lease
 * lapsed (DESIGN.md §4 durability): a crash never leaves a charger "online".
 * Each renewal also checks what this node still holds, so a charger taken over
 * by another node is let go here even if the bus message saying so was lost.
 */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private renewedAt = 0;
  private renewing: Promise<void> | undefined;
  private reconciling: Promise<void> | undefined;
  private readonly ttlMs: number;
  private readonly everyMs: number;
  /** Between start() and stop(): renewals run only then. */
  private running = false;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly node: NodeRegistration,
    private readonly hooks?: LeaseHooks,
    /**
     * Where the renewal runs: a connection of its own on PostgreSQL. From the shared pool it waited
     * behind the ingest lanes for longer than the pool lets a caller wait when the database was
     * saturated, and a node whose lease may have lapsed answers no CALL.
     */
    private readonly renewalDb: Queryable = db,
  ) {
    this.ttlMs = node.leaseTtlSec * 1000;
    this.everyMs = Math.max(1_000, this.ttlMs / 3);
  }

  get nodeId(): string {
    return this.node.nodeId;
  }

  async start(): Promise<void> {
    const sent = Date.now();
    await registerNode(this.db, this.node);
    this.renewedAt = sent;
    await this.recover();
    this.running = true;
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
  }

  /**
   * False once a lease's length passed since the last renewal that certainly succeeded: other
   * nodes may already count this one dead, so it must not store anything for chargers it may have lost.
   */
  fresh(): boolean {
    const since = Date.now() - this.renewedAt;
    // The timer alone is not enough: under load libuv stays in its poll phase for up to 48 × 1,024
    // socket events and runs no timer meanwhile (16 s in the ingest bench, docs/benchmarks.md
    // "Timers starved by the poll phase"); the lease lapsed and the node answered no CALL. A CALL
    // that finds the renewal due starts it; the answer comes back through that same poll phase.
    if (since >= this.everyMs) this.tick();
    return since < this.ttlMs;
  }

  /**
   * A renewal, unless one is running; after it (so a fenced node lets its chargers go before it
   * compares holds) the reconciliation, unless the last one still runs. The renewal never waits
   * behind a slow reconciliation (thousands of holds read and compared, crash recovery, on a
   * database saturated by ingest): that made it late by more than a lease.
   */
  private tick(): void {
    if (!this.running) return;
    this.renewing ??= this.renew()
      .then(() => void (this.reconciling ??= this.reconcile().finally(() => (this.reconciling = undefined))))
      .finally(() => (this.renewing = undefined));
  }

  async draining(): Promise<void> {
    await markNodeDraining(this.db, this.node.nodeId);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    await Promise.all([this.renewing, this.reconciling]);
    await markNodeStopped(this.db, this.node.nodeId);
  }

  private async renew(): Promise<void> {
    try {
      const sent = Date.now();
      const renewed = await renewLease(this.renewalDb, this.node.nodeId);
      // Slow enough to come near the lease's length: the node is about to stop answering CALLs.
      const tookMs = Date.now() - sent;
      if (tookMs > this.ttlMs / 3) this.log.warn({ tookMs, sinceLastMs: sent - this.renewedAt, ttlMs: this.ttlMs }, 'lease renewal slow');
      if (renewed) {
        this.renewedAt = sent;
      } else {
        this.log.error({ node: this.node.nodeId }, 'this node was presumed dead (its lease lapsed); letting every charger go and taking a new lease');
        await this.hooks?.fenced();
        await reviveNode(this.db, this.node.nodeId);
        this.renewedAt = sent;
      }
    } catch (err) {
      this.log.warn({ err }, 'lease renewal failed');
    }
  }

  /** What this node still holds, checked against the database; then the leases of other nodes. */
  private async reconcile(): Promise<void> {
    try {
      if (this.hooks) {
        const queriedAt = Date.now();
        await this.hooks.held(await holdsOfNode(this.db, this.node.nodeId), queriedAt);
      }
      await this.recover();
    } catch (err) {
      this.log.warn({ err }, 'checking the holds and the other nodes\' leases failed');
    }
  }

  private async recover(): Promise<void> {
    const r = await recoverExpiredNodes(this.db, this.node.nodeId, this.node.leaseTtlSec);
    if (r.nodes.length > 0) {
      this.log.warn({ nodes: r.nodes, connections: r.connections }, 'closed connections left open by nodes whose lease expired');
    }
  }
}
