import ocppRpc from 'ocpp-rpc';

/**
 * ocpp-rpc's CALLERROR classes (one per OCPP-J error code). It is a CommonJS
 * module whose spread-in exports Node's ESM loader cannot see by name, so they
 * are taken from its default export here, once.
 */
export const { RPCError, RPCGenericError, RPCFormatViolationError, RPCPropertyConstraintViolationError } = ocppRpc;
