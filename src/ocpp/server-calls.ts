/**
 * How a CALL the server sent to a charger ended (the command service maps these to its statuses:
 * answered → Accepted/Rejected by the payload, call_error → Error/NotSupported, offline → Offline,
 * timeout → Timeout, failed → Error).
 */
export type CallOutcome =
  | { status: 'answered'; payload: unknown }
  /** The charger answered with a CALLERROR (OCPP-J §4.2.3). */
  | { status: 'call_error'; code: string; description: string }
  /** No node holds the charger (or the node holding it is gone). */
  | { status: 'offline' }
  | { status: 'timeout' }
  /** Neither answer nor CALLERROR: the bus or the node failed; the CALL may or may not have reached the charger. */
  | { status: 'failed'; reason: string };

export interface ChargerCall {
  chargePointId: string;
  action: string;
  params: unknown;
  timeoutMs: number;
}

/** Why another part of the system closes a charger's connection on this node. */
export type ReleaseReason = 'replaced' | 'deregistered' | 'credentials_changed';
