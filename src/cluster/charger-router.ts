import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { holderOf, type Hold } from '../store/holds.js';
import { BusTimeoutError, NoResponderError, type Bus } from './bus.js';
import type { CallOutcome, ChargerCall, ReleaseReason } from '../ocpp/server-calls.js';

export type { CallOutcome, ChargerCall, ReleaseReason };

/** What this node can do to the chargers connected to it; the OCPP gateway provides it. */
export interface LocalChargers {
  isConnected(chargePointId: string): boolean;
  /** A CALL on this node's connection of the charger; `offline` when it has none. */
  call(c: ChargerCall): Promise<CallOutcome>;
  /** Closes this node's connection of the charger (only connection `connectionId`, when given); false when there was none. */
  release(chargePointId: string, reason: ReleaseReason, connectionId?: number): Promise<boolean>;
}


const CALL = 'charger.call';
const CLOSE = 'charger.close';
/** Added to a routed CALL's own timeout, so the remote node's Timeout, not the bus's, is what the sender sees. */
const BUS_MARGIN_MS = 2_000;
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Reaches a charger wherever it is connected: on this node directly, on another node over the bus,
 * found through the database (holderOf: the hold, valid while its node's lease is). Also answers
 * the requests other nodes send to this one.
 */
export class ChargerRouter {
  private answering = true;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly bus: Bus,
    private readonly db: Db,
    private readonly local: LocalChargers,
    private readonly log: Logger,
  ) {}

  /** Starts answering other nodes' requests; resolves once they can reach this node. */
  async start(): Promise<void> {
    await this.bus.answer(CALL, (body) => this.track(() => (this.answering ? this.local.call(body as ChargerCall) : Promise.resolve({ status: 'offline' } as CallOutcome))));
    await this.bus.answer(CLOSE, async (body) => {
      const b = body as { chargePointId: string; reason: ReleaseReason; connectionId?: number };
      return { released: await this.local.release(b.chargePointId, b.reason, b.connectionId) };
    });
  }

  /** Which node holds the charger: this one when its connection is here, else what the database says. */
  async locate(chargePointId: string): Promise<Hold | undefined> {
    return holderOf(this.db, chargePointId);
  }

  /** Sends a CALL to the charger through whichever node holds it and waits for the answer. */
  async call(c: ChargerCall): Promise<CallOutcome> {
    if (this.local.isConnected(c.chargePointId)) return this.local.call(c);
    let holder: Hold | undefined;
    try {
      holder = await this.locate(c.chargePointId);
    } catch (err) {
      return { status: 'failed', reason: `could not look up the charger's node: ${(err as Error).message}` };
    }
    if (!holder || holder.nodeId === this.bus.nodeId) return { status: 'offline' };
    try {
      return (await this.bus.request(holder.nodeId, CALL, c, c.timeoutMs + BUS_MARGIN_MS)) as CallOutcome;
    } catch (err) {
      // A node that left the bus (killed, stopped) holds nothing any more; its lease will lapse.
      if (err instanceof NoResponderError) return { status: 'offline' };
      if (err instanceof BusTimeoutError) return { status: 'timeout' };
      return { status: 'failed', reason: (err as Error).message };
    }
  }

  /**
   * Closes the charger's connection wherever it is (the API deleted the charger or changed its
   * credentials). Resolves once the holding node confirmed, or failed to: then its lease sweep
   * closes the connection, because the database no longer lets it hold the charger.
   */
  async disconnect(chargePointId: string, reason: 'deregistered' | 'credentials_changed'): Promise<void> {
    if (await this.local.release(chargePointId, reason)) return;
    const holder = await this.locate(chargePointId).catch(() => undefined);
    if (!holder || holder.nodeId === this.bus.nodeId) return;
    await this.tell(holder, chargePointId, reason);
  }

  /** A connection here took the charger over from `previous` (another node's): that node lets go of its own. */
  replaced(chargePointId: string, previous: Hold): void {
    if (previous.nodeId === this.bus.nodeId) return;
    void this.tell(previous, chargePointId, 'replaced');
  }

  /** Drain: later CALLs from other nodes find the charger offline; those under way finish. */
  async stopAnswering(): Promise<void> {
    this.answering = false;
    await Promise.allSettled([...this.inFlight]);
  }

  private async tell(holder: Hold, chargePointId: string, reason: ReleaseReason): Promise<void> {
    try {
      await this.bus.request(holder.nodeId, CLOSE, { chargePointId, reason, ...(reason === 'replaced' ? { connectionId: holder.connectionId } : {}) }, CLOSE_TIMEOUT_MS);
    } catch (err) {
      // Not lost: the holder's lease sweep finds it no longer holds the charger (or it is dead).
      if (!(err instanceof NoResponderError)) this.log.warn({ err, charge_point_id: chargePointId, node: holder.nodeId }, 'could not tell the node holding a charger to close it');
    }
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    const p = fn();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }
}
