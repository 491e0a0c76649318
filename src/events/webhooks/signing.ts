import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const PREFIX = 'whsec_';

/** A new signing secret in the Standard Webhooks form: whsec_ + base64 of 32 random bytes. */
export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** A secret given by the client must be usable by Standard Webhooks libraries: whsec_ + base64 of 24–64 bytes. */
export function isValidSecret(secret: string): boolean {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : undefined;
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return false;
  const n = Buffer.from(b64, 'base64').length;
  return n >= 24 && n <= 64;
}

/**
 * Signs deliveries for one endpoint, twice (docs/alerts.md "Verifying a delivery"):
 * - `X-Dynamo-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body, keyed by the secret string
 *   exactly as shown at creation (its UTF-8 bytes, prefix included);
 * - Standard Webhooks: `webhook-id`, `webhook-timestamp` (Unix seconds of this attempt) and
 *   `webhook-signature: v1,<base64>` over `id.timestamp.body`, keyed by the base64-decoded part
 *   after `whsec_`, through the `standardwebhooks` library. Receivers reject stale timestamps
 *   (replays); retries carry the same webhook-id and a fresh timestamp.
 */
export class Signer {
  private readonly standard: Webhook;

  constructor(private readonly secret: string) {
    this.standard = new Webhook(secret);
  }

  headers(messageId: string, at: Date, body: string): Record<string, string> {
    return {
      'x-dynamo-signature': `sha256=${createHmac('sha256', this.secret).update(body, 'utf8').digest('hex')}`,
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': this.standard.sign(messageId, at, body),
    };
  }
}
