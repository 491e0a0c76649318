import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_RETRY_DELAY_MS, parseRetryAfter, retryDelayMs } from '../src/events/webhooks/backoff.js';
import { generateSecret, isValidSecret } from '../src/events/webhooks/signing.js';
import { parseTarget, WebhookTargetError } from '../src/events/webhooks/target.js';
import { parseSecretsKey, SecretBox, SecretUnavailableError } from '../src/security/secret-box.js';
import { ConfigError, loadConfig } from '../src/config.js';

describe('webhook retry schedule', () => {
  it('doubles from the base up to an hour, each wait between half and all of its step', () => {
    const low = (n: number) => retryDelayMs(n, 5000, undefined, () => 0);
    const high = (n: number) => retryDelayMs(n, 5000, undefined, () => 1);
    expect([1, 2, 3, 4].map(high)).toEqual([5000, 10_000, 20_000, 40_000]);
    expect([1, 2, 3, 4].map(low)).toEqual([2500, 5000, 10_000, 20_000]);
    expect(high(30)).toBe(MAX_RETRY_DELAY_MS);
    expect(high(10_000)).toBe(MAX_RETRY_DELAY_MS);
    // Retrying goes on as long as the endpoint is not disabled: 24 h of failures take at least this many attempts.
    let elapsed = 0;
    let attempts = 0;
    while (elapsed < 86_400_000) elapsed += high(++attempts);
    expect(attempts).toBeGreaterThanOrEqual(30);
  });

  it('lets Retry-After replace the backoff, at least the base and at most an hour', () => {
    expect(retryDelayMs(1, 200, 2000)).toBe(2000);
    expect(retryDelayMs(9, 200, 2000)).toBe(2000);
    expect(retryDelayMs(1, 200, 0)).toBe(200);
    expect(retryDelayMs(1, 200, 86_400_000)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('reads Retry-After as seconds or an HTTP date, and ignores anything else', () => {
    const now = Date.parse('2026-06-15T14:22:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 15 Jun 2026 14:22:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 15 Jun 2026 14:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('webhook secrets', () => {
  it('generates Standard Webhooks secrets and accepts only that form from clients', () => {
    const s = generateSecret();
    expect(isValidSecret(s)).toBe(true);
    expect(generateSecret()).not.toBe(s);
    expect(isValidSecret(`whsec_${randomBytes(24).toString('base64')}`)).toBe(true);
    expect(isValidSecret(`whsec_${randomBytes(64).toString('base64')}`)).toBe(true);
    for (const bad of ['', 'hunter2', randomBytes(32).toString('base64'), `whsec_${randomBytes(16).toString('base64')}`, `whsec_${randomBytes(65).toString('base64')}`, 'whsec_not base64!', 'whsec_YWJj']) {
      expect(isValidSecret(bad), bad).toBe(false);
    }
  });

  it('seals secrets with AES-256-GCM under DYNAMO_SECRETS_KEY, bound to their endpoint', () => {
    const key = randomBytes(32);
    const box = new SecretBox(key);
    const sealed = box.seal('whsec_abc', 'whe_1');
    expect(sealed).toMatch(/^aes256gcm:/);
    expect(sealed).not.toContain('whsec_abc');
    expect(box.seal('whsec_abc', 'whe_1')).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed, 'whe_1')).toBe('whsec_abc');
    expect(() => box.open(sealed, 'whe_2')).toThrow(SecretUnavailableError); // moved to another row
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'whe_1')).toThrow(SecretUnavailableError);
    expect(() => new SecretBox(undefined).open(sealed, 'whe_1')).toThrow(/DYNAMO_SECRETS_KEY is not set/);
    const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(() => box.open(tampered, 'whe_1')).toThrow(SecretUnavailableError);
  });

  it('keeps secrets in clear without a key, and says so in the stored form', () => {
    const box = new SecretBox(undefined);
    expect(box.seal('whsec_abc', 'whe_1')).toBe('plain:whsec_abc');
    expect(box.open('plain:whsec_abc', 'whe_1')).toBe('whsec_abc');
    expect(new SecretBox(randomBytes(32)).needsSealing('plain:whsec_abc')).toBe(true);
    expect(box.needsSealing('plain:whsec_abc')).toBe(false);
  });

  it('reads DYNAMO_SECRETS_KEY as 64 hex digits or base64 of 32 bytes, and refuses anything else at start', () => {
    const key = randomBytes(32);
    expect(parseSecretsKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretsKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretsKey('too-short')).toBeUndefined();
    expect(loadConfig({ DYNAMO_SECRETS_KEY: key.toString('hex') }).secretsKey).toEqual(key);
    expect(() => loadConfig({ DYNAMO_SECRETS_KEY: 'password123' })).toThrow(ConfigError);
    expect(() => loadConfig({ DYNAMO_SECRETS_KEY: 'password123' })).toThrow(/DYNAMO_SECRETS_KEY/);
  });
});

describe('webhook URLs', () => {
  const strict = { allowHttp: false, allowPrivate: false };
  const reason = (url: string, policy = strict) => {
    try {
      parseTarget(url, policy);
      return 'ok';
    } catch (err) {
      return (err as WebhookTargetError).reason;
    }
  };
  it('wants https unless plain http is allowed, and no credentials', () => {
    expect(reason('https://hooks.example.com/x')).toBe('ok');
    expect(reason('http://hooks.example.com/x')).toBe('scheme');
    expect(reason('http://hooks.example.com/x', { allowHttp: true, allowPrivate: false })).toBe('ok');
    expect(reason('ftp://hooks.example.com/x', { allowHttp: true, allowPrivate: true })).toBe('scheme');
    expect(reason('https://a:b@hooks.example.com/x')).toBe('credentials');
    expect(reason('hooks.example.com/x')).toBe('invalid_url');
  });
});
