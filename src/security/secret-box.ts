import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets the service must read back (webhook signing secrets feed an HMAC, so they cannot be
 * hashed): AES-256-GCM under DYNAMO_SECRETS_KEY when it is set, bound to the row that holds them
 * (the associated data), else kept as they are and protected by database access alone
 * (docs/alerts.md "Secrets at rest").
 */
export class SecretBox {
  private static readonly SEALED = 'aes256gcm:';
  private static readonly PLAIN = 'plain:';

  constructor(private readonly key: Buffer | undefined) {
    if (key && key.length !== 32) throw new Error('the secrets key must be 32 bytes');
  }

  get encrypts(): boolean {
    return this.key !== undefined;
  }

  seal(secret: string, boundTo: string): string {
    if (!this.key) return SecretBox.PLAIN + secret;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return SecretBox.SEALED + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The secret; throws SecretUnavailableError when it was sealed under another key or none is set. */
  open(stored: string, boundTo: string): string {
    if (stored.startsWith(SecretBox.PLAIN)) return stored.slice(SecretBox.PLAIN.length);
    if (!stored.startsWith(SecretBox.SEALED)) throw new SecretUnavailableError('unknown secret format');
    if (!this.key) throw new SecretUnavailableError('the secret is encrypted but DYNAMO_SECRETS_KEY is not set');
    const raw = Buffer.from(stored.slice(SecretBox.SEALED.length), 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(boundTo, 'utf8'));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnavailableError('the secret does not decrypt under DYNAMO_SECRETS_KEY (was the key changed?)');
    }
  }

  /** Whether a stored value is in clear while this box could seal it. */
  needsSealing(stored: string): boolean {
    return this.key !== undefined && stored.startsWith(SecretBox.PLAIN);
  }
}

export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
}

/** DYNAMO_SECRETS_KEY: 32 bytes as 64 hex digits or base64 (44 characters). */
export function parseSecretsKey(raw: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(raw)) return Buffer.from(raw, 'base64');
  return undefined;
}
