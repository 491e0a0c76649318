import type { RPCServerClient } from './rpc-types.js';
import type { ApplyResult, ChargerEvent } from '../ingest/events.js';
import type { DisconnectReason } from '../store/history/connections.js';

/** What a message handler may use: its connection and the ingest path. */
export interface HandlerContext {
  readonly conn: ChargerConnection;
  /**
   * Commits the events of the message being handled, all together (call it once per message);
   * resolves with one result per event once they are durable: only then may the CALL be answered.
   */
  submit(events: readonly ChargerEvent[]): Promise<ApplyResult[]>;
  /** Coalesced heartbeat bookkeeping (no database round trip). */
  heartbeat(at: Date): void;
  /** Counts meter values dropped by the measurand rule (docs/ocpp.md). */
  droppedSamples(n: number): void;
  readonly heartbeatIntervalSec: number;
}

/** A message handler of any version: its params validated, its answer the CALLRESULT. */
export type Handler = (ctx: HandlerContext, params: never) => Promise<Record<string, unknown>>;

/**
 * One accepted OCPP connection of one charger on this node. It holds no
 * transaction state: that lives in the database, so a reconnect, or a move to
 * another node, in the middle of a transaction loses nothing.
 */
export class ChargerConnection {
  connectionId = 0;
  /** Resolves to connectionId once the Connected event is committed. */
  connected: Promise<number> = Promise.resolve(0);
  /** When (ms) the Connected event committed: the charger's hold is this connection's from then on. */
  heldSince = 0;
  lastHeardAt: number;
  lastPingAt = 0;
  /** Set once the disconnect is recorded, so it is recorded exactly once. */
  closeReason: DisconnectReason | undefined;

  constructor(
    readonly cp: string,
    readonly client: RPCServerClient,
    readonly protocol: string,
    readonly tenantId: string,
    readonly lenient: boolean,
    readonly remoteAddress: string | null,
    now: number,
  ) {
    this.lastHeardAt = now;
  }
}
