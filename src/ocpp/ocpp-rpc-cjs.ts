import ocppRpc from 'ocpp-rpc';

/**
 * What ocpp-rpc exports beside its classes of server and client: the CALLERROR
 * classes (one per OCPP-J error code) and NOREPLY. It is a CommonJS module whose
 * spread-in exports Node's ESM loader cannot see by name, so they are taken from
 * its default export here, once.
 */
export const { RPCError, RPCGenericError, RPCFormatViolationError, RPCPropertyConstraintViolationError, NOREPLY, TimeoutError } = ocppRpc;
