import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { createValidator } from 'ocpp-rpc';
import { schemasFor } from './schemas.js';

export interface Violation {
  code: string;
  message: string;
}

/**
 * Lenient mode for chargers with known deviations (DESIGN.md §4): a message
 * that breaks the official schema is recorded as a violation and still
 * processed when its meaning is unambiguous: numbers or booleans sent as
 * strings are coerced, an errorCode outside the 1.6 enum becomes OtherError
 * (the original kept as vendorErrorCode). Anything else is refused as in strict mode.
 */
export class LenientValidator {
  private readonly strict: ReturnType<typeof createValidator>;
  private readonly coercing: Ajv.default;

  constructor(readonly protocol: string) {
    const schemas = schemasFor(protocol);
    this.strict = createValidator(protocol, schemas);
    this.coercing = new Ajv.default({ strictSchema: false, coerceTypes: true, allErrors: true });
    (addFormats as unknown as (a: Ajv.default) => void)(this.coercing);
    this.coercing.addSchema(schemas);
  }

  /** Returns the params to process and the violation to record, or throws the strict-mode RPC error. */
  check(method: string, params: unknown): { params: unknown; violation?: Violation } {
    const schemaId = `urn:${method}.req`;
    try {
      this.strict.validate(schemaId, params);
      return { params };
    } catch (err) {
      const violation = { code: (err as { rpcErrorCode?: string }).rpcErrorCode ?? 'FormatViolation', message: (err as Error).message };
      const repaired = structuredClone(params) as Record<string, unknown>;
      this.coercing.getSchema(schemaId)?.(repaired);
      if (this.protocol === 'ocpp1.6' && method === 'StatusNotification') repairErrorCode(repaired);
      this.strict.validate(schemaId, repaired); // still invalid: throw the strict error
      return { params: repaired, violation };
    }
  }
}

const ERROR_CODES_16 = new Set([
  'ConnectorLockFailure', 'EVCommunicationError', 'GroundFailure', 'HighTemperature', 'InternalError',
  'LocalListConflict', 'NoError', 'OtherError', 'OverCurrentFailure', 'PowerMeterFailure',
  'PowerSwitchFailure', 'ReaderFailure', 'ResetFailure', 'UnderVoltage', 'OverVoltage', 'WeakSignal',
]);

function repairErrorCode(p: Record<string, unknown>): void {
  if (typeof p.errorCode === 'string' && !ERROR_CODES_16.has(p.errorCode)) {
    p.vendorErrorCode ??= p.errorCode.slice(0, 50);
    p.errorCode = 'OtherError';
  }
}
