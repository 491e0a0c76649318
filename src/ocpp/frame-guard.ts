import { createRPCError } from 'ocpp-rpc';
import type { RPCServerClient } from './rpc-types.js';

// OCPP-J 1.6 §4.2.3 error codes. ocpp-rpc answers unparseable frames with
// "RpcFrameworkError", a 2.0.1 code a 1.6 charger does not know.
const CODES_16 = new Set([
  'NotImplemented', 'NotSupported', 'InternalError', 'ProtocolError', 'SecurityError', 'FormationViolation',
  'PropertyConstraintViolation', 'OccurenceConstraintViolation', 'OccurrenceConstraintViolation', 'TypeConstraintViolation', 'GenericError',
]);

const CALL_ID = /^\s*\[\s*2\s*,\s*"((?:[^"\\]|\\.){1,64})"/;

interface Internals {
  _onMessage(buffer: Buffer): void;
  sendRaw(message: string): void;
}

/**
 * Guards a connection at the frame level, through two ocpp-rpc internals
 * (version pinned in package-lock.json; the OCPP tests cover both paths):
 *  - a frame over `softLimitBytes` is answered with a CALLERROR and dropped
 *    unparsed; after `maxStrikes` such frames in a row the connection is closed
 *    (1009). Frames over the WebSocket hard limit close it at once.
 *  - on 1.6 connections, CALLERROR codes that 1.6 does not define become
 *    FormationViolation (or ProtocolError for unknown message types).
 */
export function guardFrames(client: RPCServerClient, protocol: string, softLimitBytes: number, maxStrikes: number): void {
  const c = client as unknown as Internals;
  const onMessage = c._onMessage.bind(c);
  const sendRaw = c.sendRaw.bind(c);
  const formatViolation = protocol === 'ocpp1.6' ? 'FormationViolation' : 'FormatViolation';
  let strikes = 0;

  c._onMessage = (buffer: Buffer) => {
    if (buffer.length <= softLimitBytes) {
      strikes = 0;
      onMessage(buffer);
      return;
    }
    if (++strikes > maxStrikes) {
      void client.close({ code: 1009, reason: 'frames too large' });
      return;
    }
    const id = CALL_ID.exec(buffer.subarray(0, 128).toString('utf8'))?.[1];
    if (id !== undefined) {
      const err = createRPCError(formatViolation, `frame of ${buffer.length} bytes exceeds the limit of ${softLimitBytes}`);
      sendRaw(JSON.stringify([4, id, err.rpcErrorCode, err.message, {}]));
    }
  };

  if (protocol === 'ocpp1.6') {
    c.sendRaw = (message: string) => sendRaw(message.startsWith('[4,') ? fixCallErrorCode16(message) : message);
  }
}

function fixCallErrorCode16(message: string): string {
  try {
    const frame = JSON.parse(message) as [number, string, string, string, unknown];
    if (CODES_16.has(frame[2])) return message;
    frame[2] = frame[2] === 'MessageTypeNotSupported' ? 'ProtocolError' : 'FormationViolation';
    return JSON.stringify(frame);
  } catch {
    return message;
  }
}
