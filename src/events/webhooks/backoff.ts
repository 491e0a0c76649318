/** The longest wait between two attempts, whatever the backoff or Retry-After says. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * The wait before attempt n+1 after n failed attempts: exponential from `baseMs` (doubling per
 * attempt, at most an hour) with jitter over its upper half, so endpoints that failed together do
 * not retry together. With the default 5 s base: about 5 s, 10 s, 20 s … then hourly; the endpoint
 * is disabled only after DYNAMO_WEBHOOKS_DISABLE_AFTER (24 h) of unbroken failure.
 * A Retry-After from the receiver replaces the backoff (capped at an hour).
 */
export function retryDelayMs(failedAttempts: number, baseMs: number, retryAfterMs?: number, random = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, baseMs), MAX_RETRY_DELAY_MS);
  const ceiling = Math.min(baseMs * 2 ** Math.min(Math.max(failedAttempts - 1, 0), 40), MAX_RETRY_DELAY_MS);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date names its day and month (IMF-fixdate and the obsolete forms alike).
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
