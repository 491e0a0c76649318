import net from 'node:net';

export interface RawExchange {
  /** Everything the server wrote before it closed (or before `waitMs` ran out). */
  text: string;
  status: number | null;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connect to the server closing the socket; null if it stayed open. */
  closedAfterMs: number | null;
}

/**
 * Writes raw bytes to the server on a plain TCP socket and collects what comes back until the
 * server closes the connection or `waitMs` passes: for what no HTTP client would send.
 */
export function rawExchange(
  port: number,
  data: string | Buffer,
  opts: { waitMs?: number; localAddress?: string; closeOnStatus?: boolean } = {},
): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: opts.localAddress });
    let text = '';
    let done = false;
    const finish = (closedAfterMs: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(text, closedAfterMs));
    };
    const timer = setTimeout(() => finish(null), opts.waitMs ?? 5000);
    socket.on('connect', () => data.length > 0 && socket.write(data));
    socket.on('data', (d) => {
      text += d.toString('latin1');
      // An accepted upgrade never closes by itself: the status line is the answer.
      if (opts.closeOnStatus && /^HTTP\/1\.1 \d{3}[^\r]*\r\n[\s\S]*?\r\n\r\n/.test(text)) finish(Date.now() - started);
    });
    socket.on('close', () => finish(Date.now() - started));
    socket.on('error', (err) => (text ? finish(Date.now() - started) : reject(err)));
  });
}

function parse(text: string, closedAfterMs: number | null): RawExchange {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { text, status: m ? Number(m[1]) : null, headers, body: end < 0 ? '' : text.slice(end + 4), closedAfterMs };
}

/** A WebSocket upgrade request as a charger would send it, written by hand (path sent verbatim). */
export function upgradeRequest(path: string, opts: { protocol?: string; basic?: [string, string]; extra?: string } = {}): string {
  const auth = opts.basic ? `Authorization: Basic ${Buffer.from(`${opts.basic[0]}:${opts.basic[1]}`).toString('base64')}\r\n` : '';
  return (
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
    `Sec-WebSocket-Protocol: ${opts.protocol ?? 'ocpp1.6'}\r\n${auth}${opts.extra ?? ''}\r\n`
  );
}

/** A hand-written upgrade's answer (status 101 when accepted; the socket is then dropped). */
export function rawUpgradeStatus(port: number, path: string, opts: Parameters<typeof upgradeRequest>[1] & { localAddress?: string } = {}) {
  return rawExchange(port, upgradeRequest(path, opts), { closeOnStatus: true, localAddress: opts.localAddress });
}

/** The keys of the one error shape, sorted, for `expect(Object.keys(body.error).sort()).toEqual(…)`. */
export const ERROR_KEYS = ['code', 'message', 'parameter', 'request_id', 'status'];
