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
 *  - CALLERROR codes are made those of the connection's version: on 1.6, codes
 *    1.6 does not define become FormationViolation (ProtocolError for unknown
 *    message types); on 2.x, the spelling OccurrenceConstraintViolation.
 */
export function guardFrames(
  client: RPCServerClient,
  protocol: string,
  softLimitBytes: number,
  maxStrikes: number,
  onRefused?: (buffer: Buffer, limit: number) => void,
): void {
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
    onRefused?.(buffer, softLimitBytes);
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

  const fix = protocol === 'ocpp1.6' ? fixCode16 : fixCode2;
  c.sendRaw = (message: string) => sendRaw(message.startsWith('[4,') ? fixCallErrorCode(message, fix) : message);
}

const fixCode16 = (code: string) =>
  CODES_16.has(code) ? code : code === 'MessageTypeNotSupported' ? 'ProtocolError' : 'FormationViolation';
// OCPP-J 2.0.1 §4.3 spells it "Occurrence"; ocpp-rpc's schema validator uses 1.6's "Occurence".
const fixCode2 = (code: string) => (code === 'OccurenceConstraintViolation' ? 'OccurrenceConstraintViolation' : code);

function fixCallErrorCode(message: string, fix: (code: string) => string): string {
  try {
    const frame = JSON.parse(message) as [number, string, string, string, unknown];
    const code = fix(frame[2]);
    if (code === frame[2]) return message;
    frame[2] = code;
    return JSON.stringify(frame);
  } catch {
    return message;
  }
}
