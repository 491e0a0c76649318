/**
 * How a command reaches a charger: "send this CALL to charger X and await its answer".
 * The in-process implementation (src/ocpp/local-command-transport.ts) uses this node's
 * connections; a cluster adds one that forwards over the bus to the node holding the charger.
 * Whatever the transport, the node holding the connection sends one CALL at a time per charger
 * (OCPP-J 1.6 §4.1.1, 2.0.1 Part 4 §4.2.1) and a call never outlives its deadline.
 */
export interface ChargerCommandTransport {
  /** The OCPP version of the charger's live connection ("1.6", "2.0.1", "2.1"), or undefined when it is not connected. */
  ocppVersion(chargePointId: string): Promise<string | undefined>;
  /**
   * Sends one CALL when it is the charger's turn and resolves with what happened; never rejects.
   * `deadline` (epoch ms) bounds the wait for the turn and for the answer together. Calls for
   * one charger are sent in the order call() was invoked.
   */
  call(chargePointId: string, action: string, payload: Record<string, unknown>, deadline: number): Promise<CallOutcome>;
}

export type CallOutcome =
  /** The CALLRESULT. */
  | { kind: 'result'; payload: unknown; roundTripMs: number }
  /** A CALLERROR from the charger. */
  | { kind: 'error'; code: string; description: string; details: unknown; roundTripMs: number }
  /** The deadline passed, waiting for the turn (nothing was sent) or for the answer. */
  | { kind: 'timeout'; sent: boolean }
  /** Not connected when its turn came (nothing was sent). */
  | { kind: 'offline' }
  /** The connection closed after the CALL was sent and before an answer. */
  | { kind: 'lost'; roundTripMs: number }
  /** This side could not send it (e.g. the CALL failed our own schema check); nothing was sent. */
  | { kind: 'failed'; message: string };
