import { RPCFormatViolationError, RPCPropertyConstraintViolationError } from './ocpp-rpc-cjs.js';

/**
 * Values a schema admits but the history can never hold. Each is refused with a
 * schema-level CALLERROR (OCPP-J §4.2.3: FormatViolation / PropertyConstraintViolation;
 * ocpp-rpc spells the first FormationViolation for 1.6) before anything is submitted,
 * so the charger is told at once instead of "InternalError, retry later", which
 * would invite endless retries of a message that can never be stored.
 */

/** Connector and EVSE ids above this are refused (docs/ocpp.md "What cannot be stored"). */
export const MAX_CONNECTOR_ID = 255;

const INT4_MAX = 2_147_483_647;
// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** No NUL characters and no lone UTF-16 surrogates anywhere: PostgreSQL text and jsonb take neither. */
export function checkStorableText(params: unknown): void {
  const bad = findUnstorable(params);
  if (bad !== undefined) throw new RPCFormatViolationError(`${bad.replace(/^\./, '') || 'payload'}: text with a NUL character or an unpaired surrogate cannot be stored`);
}

/**
 * The path of the first unstorable text in a value ('' for the value itself), or undefined. The path
 * is made only on the way out of a find: this walk runs over every CALL, and building every node's
 * path beforehand was a large share of what ingest allocated (docs/benchmarks.md "Where a message's
 * time goes").
 */
function findUnstorable(value: unknown): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? '' : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findUnstorable(value[i]);
      if (bad !== undefined) return `[${i}]${bad}`;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (UNSTORABLE.test(key)) return `.${key}`;
      const bad = findUnstorable((value as Record<string, unknown>)[key]);
      if (bad !== undefined) return `.${key}${bad}`;
    }
  }
  return undefined;
}

export function checkInt4(field: string, n: number): number {
  if (n > INT4_MAX || n < -INT4_MAX - 1) throw new RPCPropertyConstraintViolationError(`${field} ${n} is out of range`);
  return n;
}

export function checkConnectorId(field: string, n: number): number {
  if (n > MAX_CONNECTOR_ID) throw new RPCPropertyConstraintViolationError(`${field} ${n} exceeds the maximum of ${MAX_CONNECTOR_ID}`);
  return n;
}
