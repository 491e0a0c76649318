import type { FastifyBaseLogger } from 'fastify';
import type { Queryable } from '../store/db.js';
import { activeKeyIds } from '../store/api-keys.js';

/**
 * Ends long-lived responses (the event stream) whose API key stops authenticating. A request is
 * authenticated once, when it arrives; a stream can stay open for days, so without this a revoked
 * key would go on receiving its tenant's events. One query a tick asks after every key with an
 * open stream on this node, however many streams there are; it reads the database, so a key
 * revoked through any node of a cluster is seen. A failed check ends nothing (a database blip
 * must not drop every dashboard); the next tick asks again.
 */
export class RevokedKeyWatch {
  private readonly watchers = new Map<string, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly db: Queryable,
    private readonly intervalMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Calls `onRevoked` once, within an interval of the key's revocation. Returns the unwatch. */
  watch(keyId: string, onRevoked: () => void): () => void {
    let set = this.watchers.get(keyId);
    if (!set) this.watchers.set(keyId, (set = new Set()));
    set.add(onRevoked);
    this.timer ??= setInterval(() => void this.check(), this.intervalMs).unref();
    return () => {
      set.delete(onRevoked);
      if (set.size === 0 && this.watchers.get(keyId) === set) this.watchers.delete(keyId);
      if (this.watchers.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    // A slow database must not stack checks up behind each other.
    if (this.checking || this.watchers.size === 0) return;
    this.checking = true;
    try {
      // Only the keys asked about: one first watched while the query ran waits for the next tick.
      const asked = [...this.watchers.keys()];
      const active = await activeKeyIds(this.db, asked);
      for (const keyId of asked) {
        const set = this.watchers.get(keyId);
        if (!set || active.has(keyId)) continue;
        this.watchers.delete(keyId);
        this.log.info({ keyId, streams: set.size }, 'API key no longer valid: closing its open streams');
        for (const fn of set) fn();
      }
      if (this.watchers.size === 0) this.stop();
    } catch (err) {
      this.log.warn({ err }, 'could not check the keys of open streams; they stay open until the next check');
    } finally {
      this.checking = false;
    }
  }
}
