import type { ChargerConnection } from './connection.js';
import { ACTIONS_WITH_SECRETS, maskOcppSecrets } from '../security/ocpp-secrets.js';

/** One frame as seen on the wire, captured synchronously and turned into a row later, off the answer path. */
export interface CapturedFrame {
  at: number;
  tenantId: string;
  chargePointId: string;
  outbound: boolean;
  text: string;
  /** Set for frames refused before parsing (over the size limit). */
  note?: string;
  /** The connection's CALL ids → actions, to name the action of a CALLRESULT / CALLERROR. */
  calls: CallIds;
}

/** Where captured frames go (the message log writer); push() must never block or throw. */
export interface FrameSink {
  push(frame: CapturedFrame): void;
}

export interface MessageLogRow {
  at: Date;
  tenantId: string;
  chargePointId: string;
  direction: 'in' | 'out';
  messageType: 'CALL' | 'CALLRESULT' | 'CALLERROR' | 'MALFORMED';
  messageId: string | null;
  action: string | null;
  /** The frame as JSON text (secrets masked); the store takes the payload out of it. Null when malformed. */
  frame: string | null;
  raw: string | null;
  note: string | null;
}

/**
 * CALL ids of one connection, per direction, until their answer: message ids are unique only
 * within a connection and direction (DESIGN.md §4), so the map lives with the connection.
 * Bounded: a charger that never answers cannot grow it.
 */
export class CallIds {
  private readonly open = new Map<string, string>();
  remember(outbound: boolean, id: string, action: string): void {
    if (this.open.size >= 64) this.open.delete(this.open.keys().next().value!);
    this.open.set(`${outbound ? 'o' : 'i'}${id}`, action);
  }
  /** The action of the CALL a response (sent in the other direction) answers. */
  answer(responseOutbound: boolean, id: string): string | null {
    const key = `${responseOutbound ? 'i' : 'o'}${id}`;
    const action = this.open.get(key) ?? null;
    this.open.delete(key);
    return action;
  }
}

const MAX_RAW = 4096;

/**
 * Every frame of a connection in and out, into the sink: ocpp-rpc emits 'message' for each
 * frame received (before parsing, so malformed frames too) and each frame sent. Only a push
 * happens here; parsing, correlation and masking happen when the writer turns it into a row.
 */
export function captureFrames(conn: ChargerConnection, sink: FrameSink): { refused(buffer: Buffer, limit: number): void } {
  const calls = new CallIds();
  const { tenantId, cp: chargePointId } = conn;
  // Written out, not spread from a shared base: on Node 20 `{ ...base, more }` took about 5 µs
  // against 0.3–0.4 µs written out, on every frame in and out; the spread was the largest self time
  // of this project's code in the ingest bench's profile (docs/benchmarks.md "Where a message's time goes").
  const captured = (outbound: boolean, text: string, note?: string): CapturedFrame => ({ tenantId, chargePointId, calls, at: Date.now(), outbound, text, note });
  conn.client.on('message', (m: { message: string | Buffer; outbound: boolean }) => {
    sink.push(captured(m.outbound, typeof m.message === 'string' ? m.message : m.message.toString('utf8')));
  });
  return {
    // Frames over the size limit never reach ocpp-rpc's parser (frame-guard.ts): logged truncated.
    refused: (buffer, limit) =>
      sink.push(captured(false, buffer.subarray(0, MAX_RAW).toString('utf8'), `frame of ${buffer.length} bytes exceeds the limit of ${limit}; first ${MAX_RAW} bytes kept`)),
  };
}

// PostgreSQL's jsonb refuses \u0000 and unpaired surrogates; such frames are kept as raw text.
const UNSTORABLE_JSON = /\\u0000|\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/;

/** A captured frame as a log row: its type, id and action (a response takes its CALL's), secrets masked. */
export function frameRow(f: CapturedFrame): MessageLogRow {
  const row: MessageLogRow = {
    at: new Date(f.at), tenantId: f.tenantId, chargePointId: f.chargePointId, direction: f.outbound ? 'out' : 'in',
    messageType: 'MALFORMED', messageId: null, action: null, frame: null, raw: null, note: f.note ?? null,
  };
  const malformed = (note: string) => {
    row.raw = clean(f.text.length > MAX_RAW ? f.text.slice(0, MAX_RAW) : f.text);
    row.note ??= note;
    return row;
  };
  if (f.note) return malformed(f.note);
  let parsed: unknown;
  try {
    parsed = JSON.parse(f.text);
  } catch {
    return malformed('not JSON');
  }
  if (!Array.isArray(parsed) || typeof parsed[1] !== 'string' || ![2, 3, 4].includes(parsed[0] as number)) return malformed('not an OCPP-J frame');
  const [type, id] = parsed as [number, string];
  row.messageId = id.slice(0, 128);
  if (type === 2) {
    if (typeof parsed[2] !== 'string') return malformed('CALL without an action');
    row.messageType = 'CALL';
    row.action = parsed[2].slice(0, 128);
    f.calls.remember(f.outbound, id, row.action);
  } else {
    row.messageType = type === 3 ? 'CALLRESULT' : 'CALLERROR';
    row.action = f.calls.answer(f.outbound, id);
  }
  if (UNSTORABLE_JSON.test(f.text)) return malformed('holds text PostgreSQL cannot store as JSON');
  row.frame = f.text;
  if (row.action && ACTIONS_WITH_SECRETS.has(row.action)) {
    const at = type === 2 ? 3 : 2;
    if (type !== 4) {
      const masked = maskOcppSecrets(row.action, parsed[at]);
      if (masked !== parsed[at]) row.frame = JSON.stringify(Object.assign([...parsed], { [at]: masked }));
    }
  }
  return row;
}

const clean = (s: string) => s.replace(/\0/g, '\uFFFD');
