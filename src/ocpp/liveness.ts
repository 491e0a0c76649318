import type { ChargerConnection } from './connection.js';
import { socketOf } from './rpc-types.js';

/**
 * DESIGN.md §3 "Online": a connection silent for longer than twice the
 * heartbeat interval is closed, as of the moment it was last heard from. Any
 * frame counts as heard, a pong included. A WebSocket ping goes to a charger
 * silent for half an interval, to draw traffic out of it; a charger that never
 * answers pings but keeps sending is never dropped for that.
 */
export class Liveness {
  private timer: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;
  private readonly pingAfterMs: number;

  constructor(
    private readonly live: Map<string, ChargerConnection>,
    heartbeatIntervalSec: number,
    private readonly onSilent: (conn: ChargerConnection) => Promise<void>,
  ) {
    this.timeoutMs = 2 * heartbeatIntervalSec * 1000;
    this.pingAfterMs = (heartbeatIntervalSec * 1000) / 2;
  }

  start(): void {
    const every = Math.min(5_000, Math.max(100, this.pingAfterMs / 4));
    this.timer = setInterval(() => this.sweep(Date.now()), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Counts pings and pongs from the charger as heard. */
  watch(conn: ChargerConnection, heard: () => void): void {
    const ws = socketOf(conn.client);
    ws?.on('pong', heard);
    ws?.on('ping', heard);
  }

  private sweep(now: number): void {
    for (const conn of this.live.values()) {
      const silent = now - conn.lastHeardAt;
      if (silent > this.timeoutMs) {
        void this.onSilent(conn);
      } else if (silent > this.pingAfterMs && now - conn.lastPingAt > this.pingAfterMs) {
        conn.lastPingAt = now;
        try {
          socketOf(conn.client)?.ping();
        } catch {
          // A socket that cannot take a ping is closing; its close event records the disconnect.
        }
      }
    }
  }
}
