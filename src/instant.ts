/**
 * The one wire format of an instant, shared by the API, the event stream and webhooks: ISO 8601 in
 * UTC to the whole second, as the API contract writes them (`2024-06-15T14:22:00Z`). Milliseconds
 * are cut, not rounded, so a time used as the next `from` still includes the event it came from.
 */
export const wireInstant = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;
