import { eventually } from './history.js';

export interface SseMessage {
  id?: string;
  event?: string;
  data: any;
}

/**
 * A client of the live event stream over real HTTP: collects every message; comment lines
 * (heartbeats) are counted. Parsing follows the SSE format (WHATWG HTML §9.2.6), enough for tests.
 */
export async function openSse(url: string, key: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const messages: SseMessage[] = [];
  let comments = 0;
  let ended = false;
  const done = (async () => {
    if (!res.ok || !res.body) return;
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const m: SseMessage = { data: undefined };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments++;
            else if (line.startsWith('id: ')) m.id = line.slice(4);
            else if (line.startsWith('event: ')) m.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length) {
            m.data = JSON.parse(data.join('\n'));
            messages.push(m);
          }
        }
      }
    } catch {
      // aborted by close()
    } finally {
      ended = true;
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    messages,
    get comments() {
      return comments;
    },
    get ended() {
      return ended;
    },
    /** Waits until a message satisfies the predicate, and returns it. */
    async waitFor(pred: (m: SseMessage) => boolean, timeoutMs = 10_000): Promise<SseMessage> {
      return (await eventually(async () => messages.find(pred), (m) => m !== undefined, timeoutMs))!;
    },
    async close() {
      abort.abort();
      await done;
    },
  };
}
