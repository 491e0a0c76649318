import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { isForbiddenAddress } from './address-policy.js';

/** Where webhooks may go (docs/alerts.md): DYNAMO_WEBHOOKS_ALLOW_HTTP and _ALLOW_PRIVATE. */
export interface TargetPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
}

export type TargetRefusal = 'invalid_url' | 'scheme' | 'credentials' | 'forbidden_address' | 'unresolvable';

export class WebhookTargetError extends Error {
  override readonly name = 'WebhookTargetError';
  constructor(readonly reason: TargetRefusal, message: string) {
    super(message);
  }
}

/** The checks that need no network: a URL, https (or http when allowed), no credentials in it. */
export function parseTarget(raw: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError('invalid_url', 'url must be an absolute URL such as https://example.com/hooks');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebhookTargetError('scheme', `url must use https (got ${url.protocol.replace(/:$/, '')})`);
  }
  if (url.protocol === 'http:' && !policy.allowHttp) {
    throw new WebhookTargetError('scheme', 'url must use https (plain http is refused unless DYNAMO_WEBHOOKS_ALLOW_HTTP=true)');
  }
  // A password in the URL would sit in the database and in every log line that shows the URL;
  // receivers authenticate deliveries by their signature instead.
  if (url.username || url.password) {
    throw new WebhookTargetError('credentials', 'url must not contain credentials; receivers verify the signature instead');
  }
  if (!url.hostname) throw new WebhookTargetError('invalid_url', 'url has no host');
  return url;
}

/** A URL's host as an address or a name to resolve: IPv6 literals lose their brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

const refuse = (host: string, address: string) =>
  new WebhookTargetError(
    'forbidden_address',
    `${host === address ? address : `${host} resolves to ${address}, which`} is a loopback, private, link-local or otherwise ` +
      'non-public address; refused unless DYNAMO_WEBHOOKS_ALLOW_PRIVATE=true',
  );

/**
 * Resolves a host once and judges every address it resolves to: one forbidden address refuses the
 * name (a name that mixes public and private answers is a rebinding trick, not a receiver).
 */
export function resolveAllowed(host: string, policy: TargetPolicy): Promise<LookupAddress[]> {
  if (isIP(host)) {
    if (!policy.allowPrivate && isForbiddenAddress(host)) return Promise.reject(refuse(host, host));
    return Promise.resolve([{ address: host, family: isIP(host) }]);
  }
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => {
      if (err || addresses.length === 0) {
        return reject(new WebhookTargetError('unresolvable', `cannot resolve ${host} (${err?.code ?? 'no addresses'})`));
      }
      const bad = policy.allowPrivate ? undefined : addresses.find((a) => isForbiddenAddress(a.address));
      if (bad) return reject(refuse(host, bad.address));
      resolve(addresses);
    });
  });
}

/** Every check a new or changed endpoint URL passes before it is stored (a clear 400 otherwise). */
export async function checkTarget(raw: string, policy: TargetPolicy): Promise<URL> {
  const url = parseTarget(raw, policy);
  await resolveAllowed(hostOf(url), policy);
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request / https.request: the socket connects to exactly the address judged
 * here, so a name cannot resolve to a public address for the check and a private one for the
 * connection (DNS rebinding).
 */
export function guardedLookup(policy: TargetPolicy) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolveAllowed(hostname, policy).then(
      (addresses) => (options.all ? callback(null, addresses) : callback(null, addresses[0]!.address, addresses[0]!.family)),
      (err: Error) => callback(Object.assign(err, { code: 'EWEBHOOKTARGET' }), ''),
    );
  };
}
