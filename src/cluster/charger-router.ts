import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { holderOf, type Hold } from '../store/holds.js';
import { BusTimeoutError, NoResponderError, type Bus } from './bus.js';
import type { CallOutcome, ChargerCommandTransport } from '../commands/transport.js';
import type { ReleaseReason } from '../ocpp/gateway.js';

/** What this node can do to the chargers connected to it; the OCPP gateway provides it. */
export interface LocalChargers {
  isConnected(chargePointId: string): boolean;
  /** Closes this node's connection of the charger (only connection `connectionId`, when given); false when there was none. */
  release(chargePointId: string, reason: ReleaseReason, connectionId?: number): Promise<boolean>;
}

/** A CALL routed to the node holding the charger: the time left rather than a deadline, as clocks differ. */
interface RoutedCall {
  chargePointId: string;
  action: string;
  payload: Record<string, unknown>;
  remainingMs: number;
}


const CALL = 'charger.call';
const CLOSE = 'charger.close';
/** Added to a routed CALL's own timeout, so the remote node's Timeout, not the bus's, is what the sender sees. */
const BUS_MARGIN_MS = 2_000;
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Reaches a charger wherever it is connected: on this node directly, on another node over the bus,
 * found through the database (holderOf: the hold, valid while its node's lease is). Also answers
 * the requests other nodes send to this one. As the command service's transport, a CALL always
 * runs through the transport of the node holding the charger, so its one-CALL-at-a-time queue
 * (OCPP-J) is where the connection is.
 */
export class ChargerRouter implements ChargerCommandTransport {
  private answering = true;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly bus: Bus,
    private readonly db: Db,
    private readonly local: LocalChargers,
    /** This node's own transport: CALLs on its connections. */
    private readonly here: ChargerCommandTransport,
    private readonly log: Logger,
  ) {}

  /** Starts answering other nodes' requests; resolves once they can reach this node. */
  async start(): Promise<void> {
    await this.bus.answer(CALL, (body) => {
      const c = body as RoutedCall;
      if (!this.answering) return Promise.resolve<CallOutcome>({ kind: 'offline' });
      return this.track(() => this.here.call(c.chargePointId, c.action, c.payload, Date.now() + c.remainingMs));
    });
    await this.bus.answer(CLOSE, async (body) => {
      const b = body as { chargePointId: string; reason: ReleaseReason; connectionId?: number };
      return { released: await this.local.release(b.chargePointId, b.reason, b.connectionId) };
    });
  }

  /** Which node holds the charger: this one when its connection is here, else what the database says. */
  async locate(chargePointId: string): Promise<Hold | undefined> {
    return holderOf(this.db, chargePointId);
  }

  async ocppVersion(chargePointId: string): Promise<string | undefined> {
    if (this.local.isConnected(chargePointId)) return this.here.ocppVersion(chargePointId);
    return (await this.locate(chargePointId).catch(() => undefined))?.ocppVersion;
  }

  /** Sends a CALL to the charger through whichever node holds it and waits for the answer; never rejects. */
  async call(chargePointId: string, action: string, payload: Record<string, unknown>, deadline: number): Promise<CallOutcome> {
    if (this.local.isConnected(chargePointId)) return this.here.call(chargePointId, action, payload, deadline);
    let holder: Hold | undefined;
    try {
      holder = await this.locate(chargePointId);
    } catch (err) {
      return { kind: 'failed', message: `could not look up the charger's node: ${(err as Error).message}` };
    }
    if (!holder || holder.nodeId === this.bus.nodeId) return { kind: 'offline' };
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) return { kind: 'timeout', sent: false };
    const routed: RoutedCall = { chargePointId, action, payload, remainingMs };
    try {
      return (await this.bus.request(holder.nodeId, CALL, routed, remainingMs + BUS_MARGIN_MS)) as CallOutcome;
    } catch (err) {
      // A node that left the bus (killed, stopped) holds nothing any more; its lease will lapse.
      if (err instanceof NoResponderError) return { kind: 'offline' };
      // Whether the holder sent the CALL is unknown: it may have.
      if (err instanceof BusTimeoutError) return { kind: 'timeout', sent: true };
      return { kind: 'failed', message: (err as Error).message };
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
  replaced(chargePointId: string, previous: Pick<Hold, 'nodeId' | 'connectionId'>): void {
    if (previous.nodeId === this.bus.nodeId) return;
    void this.tell(previous, chargePointId, 'replaced');
  }

  /** Drain: later CALLs from other nodes find the charger offline; those under way finish. */
  async stopAnswering(): Promise<void> {
    this.answering = false;
    await Promise.allSettled([...this.inFlight]);
  }

  private async tell(holder: Pick<Hold, 'nodeId' | 'connectionId'>, chargePointId: string, reason: ReleaseReason): Promise<void> {
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
