import type { RPCServerClient } from './rpc-types.js';
import type { ApplyResult, ChargerEvent } from '../ingest/events.js';
import type { DisconnectReason } from '../store/history/connections.js';

/** What a message handler may use: its connection and the ingest path. */
export interface HandlerContext {
  readonly conn: ChargerConnection;
  /** Resolves when the event is committed; only then may the CALL be answered. */
  submit(event: ChargerEvent): Promise<ApplyResult>;
  /** Coalesced heartbeat bookkeeping (no database round trip). */
  heartbeat(at: Date): void;
  /** Counts meter values dropped by the measurand rule (docs/ocpp.md). */
  droppedSamples(n: number): void;
  readonly heartbeatIntervalSec: number;
}

/** A message handler of any version: its params validated, its answer the CALLRESULT. */
export type Handler = (ctx: HandlerContext, params: never) => Promise<Record<string, unknown>>;

/** One accepted OCPP connection of one charger on this node. */
export class ChargerConnection {
  connectionId = 0;
  /** Resolves to connectionId once the Connected event is committed. */
  connected: Promise<number> = Promise.resolve(0);
  lastHeardAt: number;
  lastPingAt = 0;
  /** Set once the disconnect is recorded, so it is recorded exactly once. */
  closeReason: DisconnectReason | undefined;
  /** OCPP 2.x: EVSEs whose transaction is in chargingState Charging (Occupied then reports as Charging). */
  readonly chargingEvses = new Set<number>();
  /** OCPP 2.x: the EVSE of each transaction, for events that do not repeat it. */
  readonly transactionEvse = new Map<string, number>();
  /** OCPP 2.x: transactions whose session row this connection already made (no upsert per Updated). */
  readonly knownTransactions = new Set<string>();

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
