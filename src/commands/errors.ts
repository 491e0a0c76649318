/** Why a command was refused before anything was sent (the API answers 4xx; nothing is recorded). */
export class CommandRefusedError extends Error {}

/** Bad input: an unknown command, parameters that do not fit its schema, a session of another charger. */
export class CommandInputError extends CommandRefusedError {
  override readonly name = 'CommandInputError';
  constructor(readonly parameter: string, message: string) {
    super(message);
  }
}

/** The charger, session or command is not one of the tenant's. */
export class CommandNotFoundError extends CommandRefusedError {
  override readonly name = 'CommandNotFoundError';
  constructor(readonly what: 'charger' | 'session' | 'command' | 'bulk command' | 'site', readonly parameter: string) {
    super(`${what} not found`);
  }
}

/** The request is valid but cannot be carried out as things stand (e.g. stopping a session that ended). */
export class CommandConflictError extends CommandRefusedError {
  override readonly name = 'CommandConflictError';
  constructor(readonly code: string, message: string, readonly parameter: string | null = null) {
    super(message);
  }
}

/**
 * The charger's OCPP version has no equivalent of the command (or of one of its parameters):
 * recorded as NotSupported without sending anything.
 */
export class NotSupportedByVersion extends Error {
  override readonly name = 'NotSupportedByVersion';
}
