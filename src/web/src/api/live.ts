import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { createParser } from 'eventsource-parser';
import type { ApiClient } from './client';
import type { Features } from './features';

/** Fleet events the dashboard refreshes on (docs/events.md, once the event stream exists). */
export interface FleetEvent {
  id: string;
  event: string;
  data: unknown;
}

const EVENTS_ROUTE = 'GET /api/v1/cpo/events';
/** Without the stream the dashboard polls this often; with it, polling is only a safety net. */
export const POLL_MS = 5_000;
const POLL_WITH_STREAM_MS = 60_000;

/**
 * Live updates for the whole dashboard: one ticker that fires when something may have changed.
 * On a service with the event stream (GET /api/v1/cpo/events, Server-Sent Events) it fires on
 * each event, read through fetch so the key stays in the Authorization header (EventSource
 * cannot send headers), resumed with Last-Event-ID after a drop. Without the stream it polls.
 * Hidden tabs neither poll nor stream.
 */
export class Live {
  private readonly listeners = new Set<(e: FleetEvent | null) => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private stream: AbortController | undefined;
  private lastEventId: string | undefined;
  private streaming = false;
  private closed = false;

  constructor(
    private readonly api: ApiClient,
    private readonly features: Features,
  ) {}

  get hasStream(): boolean {
    return this.features.has(EVENTS_ROUTE);
  }

  get connected(): boolean {
    return this.streaming;
  }

  start(): void {
    document.addEventListener('visibilitychange', this.onVisibility);
    this.onVisibility();
  }

  stop(): void {
    this.closed = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.pause();
  }

  subscribe(fn: (e: FleetEvent | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: FleetEvent | null) {
    for (const fn of this.listeners) fn(e);
  }

  private readonly onVisibility = () => {
    if (document.visibilityState === 'hidden') return this.pause();
    if (this.timer) return;
    this.emit(null); // catch up on what happened while hidden
    this.schedulePoll();
    if (this.hasStream) void this.openStream();
  };

  private schedulePoll() {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.emit(null), this.streaming ? POLL_WITH_STREAM_MS : POLL_MS);
  }

  private pause() {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stream?.abort();
    this.stream = undefined;
  }

  private async openStream(): Promise<void> {
    for (let attempt = 0; !this.closed && this.timer; attempt++) {
      const ctl = new AbortController();
      this.stream = ctl;
      try {
        const res = await this.api.stream('/api/v1/cpo/events', this.lastEventId ? { 'last-event-id': this.lastEventId } : {}, ctl.signal);
        if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`);
        attempt = 0;
        this.streaming = true;
        this.schedulePoll();
        const parser = createParser({
          onEvent: (m) => {
            if (m.id) this.lastEventId = m.id;
            let body: unknown = m.data;
            try {
              body = JSON.parse(m.data);
            } catch {
              // not JSON: pass the text on
            }
            // The envelope {id, event, created_at, tenant_id, data} (issue 11), whether or not
            // the stream also names the event on its `event:` line.
            const envelope = typeof body === 'object' && body !== null ? (body as { event?: unknown; data?: unknown }) : undefined;
            const event = m.event && m.event !== 'message' ? m.event : typeof envelope?.event === 'string' ? envelope.event : 'message';
            this.emit({ id: m.id ?? '', event, data: envelope && 'data' in envelope ? envelope.data : body });
          },
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } catch {
        if (ctl.signal.aborted) return;
      } finally {
        if (this.streaming) {
          this.streaming = false;
          if (this.timer) this.schedulePoll();
        }
      }
      // Back off (1 s, 2 s, … 30 s, with jitter) so a restarting service is not stampeded.
      await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  }
}

export const LiveContext = createContext<Live | null>(null);

/**
 * A number that grows each time the fleet may have changed (a poll tick or a matching event):
 * put it in a loader's deps to refresh live. `match` picks the events that matter.
 */
export function useLiveTick(match: (e: FleetEvent) => boolean = () => true): number {
  const live = useContext(LiveContext);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!live) return;
    let pending: ReturnType<typeof setTimeout> | undefined;
    // Events come in bursts (a status change, then a connector change): one refresh per burst.
    const bump = () => {
      pending ??= setTimeout(() => {
        pending = undefined;
        setTick((t) => t + 1);
      }, 300);
    };
    const off = live.subscribe((e) => {
      if (!e || match(e)) bump();
    });
    return () => {
      off();
      clearTimeout(pending);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [live]);
  return tick;
}
