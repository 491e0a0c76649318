import type { CommandName, CommandParams } from '../catalog.js';

/** One server-initiated OCPP CALL: the action and its params, valid for the charger's version. */
export interface OcppCall {
  action: string;
  payload: Record<string, unknown>;
}

/** What a mapping may need beyond the parameters; each is fetched only if the mapping asks. */
export interface MappingContext {
  /** The charger's own id of the session named by stop_session (resolved by the service). */
  transactionId?: string;
  /** A fresh integer for OCPP 2.x remoteStartId / requestId (a database sequence). */
  requestId(): Promise<number>;
  now: Date;
}

/** The version-specific half of a command: its CALL, and what the CALLRESULT means. */
export interface CommandAdapter {
  /** Throws NotSupportedByVersion when this version has no such command or parameter. */
  toCall(command: CommandName, params: CommandParams, ctx: MappingContext): Promise<OcppCall>;
  /** Accepted, Rejected or NotSupported, from the CALLRESULT of that action. */
  outcome(action: string, response: unknown): 'Accepted' | 'Rejected' | 'NotSupported';
}

/**
 * The answers of OCPP 1.6 and 2.x that mean the charger will do (or has done) what was asked,
 * and those that mean it cannot: Scheduled (ChangeAvailability during a transaction),
 * RebootRequired (ChangeConfiguration) and AcceptedCanceled (a new firmware or log request
 * replacing a running one) are acceptances; NotImplemented / NotSupported(AttributeType)
 * say the charger lacks the feature. Any other status is a refusal.
 */
const ACCEPTED = new Set(['Accepted', 'Scheduled', 'RebootRequired', 'AcceptedCanceled', 'Unlocked']);
const NOT_SUPPORTED = new Set(['NotSupported', 'NotImplemented', 'NotSupportedAttributeType']);

export function outcomeOfStatus(status: unknown): 'Accepted' | 'Rejected' | 'NotSupported' {
  if (status === undefined) return 'Accepted';
  if (typeof status === 'string' && ACCEPTED.has(status)) return 'Accepted';
  if (typeof status === 'string' && NOT_SUPPORTED.has(status)) return 'NotSupported';
  return 'Rejected';
}

/** The fixed id of the profile set_power_limit installs, so a new limit replaces the last (1.6 §5.16.1, 2.0.1 K01.FR.05). */
export const POWER_LIMIT_PROFILE_ID = 9_100_001;

/** Whole-charger (connector 0) or one connector. */
export const stationWide = (connectorId: number | undefined) => connectorId === undefined || connectorId === 0;

/** The power limit as a schedule limit and its unit. */
export function powerLimit(p: CommandParams<'set_power_limit'>): { unit: 'W' | 'A'; limit: number } {
  return p.limit_kw !== undefined ? { unit: 'W', limit: Math.round(p.limit_kw * 1000 * 10) / 10 } : { unit: 'A', limit: Math.round(p.limit_a! * 10) / 10 };
}

export const statusField = (r: unknown) => (typeof r === 'object' && r !== null ? (r as { status?: unknown }).status : undefined);
