/**
 * Backoff for wrong charger passwords, per identity and client address (DESIGN.md, security):
 * a few free attempts (a charger whose password was just changed may retry with the old one),
 * then each further failure doubles a lockout during which attempts are refused at once,
 * without paying for scrypt. A correct password clears the record.
 */
export interface BackoffPolicy {
  freeAttempts: number;
  baseMs: number;
  maxMs: number;
  /** A record quiet for this long is forgotten, so memory stays bounded by recent offenders. */
  forgetAfterMs: number;
  maxEntries: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { freeAttempts: 3, baseMs: 1000, maxMs: 300_000, forgetAfterMs: 900_000, maxEntries: 10_000 };

export class PasswordBackoff {
  // Map keeps insertion order: entries are re-inserted on each failure, so the first is the stalest.
  private readonly entries = new Map<string, { failures: number; until: number; last: number }>();

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** Milliseconds this identity must still wait from this address; 0 when it may try. */
  waitMs(identity: string, address: string | null, now = Date.now()): number {
    const e = this.entries.get(key(identity, address));
    return e ? Math.max(0, e.until - now) : 0;
  }

  /** Records a wrong password; returns the lockout it starts (0 while attempts are still free). */
  failed(identity: string, address: string | null, now = Date.now()): number {
    const k = key(identity, address);
    const prior = this.entries.get(k);
    const failures = (prior && now - prior.last < this.policy.forgetAfterMs ? prior.failures : 0) + 1;
    const over = failures - this.policy.freeAttempts;
    const lockMs = over > 0 ? Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(over - 1, 30)) : 0;
    this.entries.delete(k);
    this.entries.set(k, { failures, until: now + lockMs, last: now });
    this.prune(now);
    return lockMs;
  }

  succeeded(identity: string, address: string | null): void {
    this.entries.delete(key(identity, address));
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.policy.maxEntries && now - e.last < this.policy.forgetAfterMs) break;
      this.entries.delete(k);
    }
  }
}

const key = (identity: string, address: string | null) => `${identity}\u0000${address ?? ''}`;
