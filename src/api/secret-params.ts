/**
 * Query parameters that carry a secret, recognised the way a server would read them:
 * after percent-decoding (`ap%69_key`), without array/object brackets (`key[]`, `token[0]`),
 * whatever the case and separators (`API-Key`, `apiKey`). Used both to refuse keys in the
 * query string and to redact them from logged URLs, so the two can never disagree.
 */
const SECRET_NAMES = new Set(['apikey', 'key', 'token', 'accesstoken', 'password', 'secret', 'authorization', 'xapikey']);

/** Percent-decodes until stable (a few rounds catch double encoding); undecodable text is kept as is. */
function decode(text: string): string {
  let out = text.replace(/\+/g, ' ');
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(out);
    } catch {
      return out;
    }
    if (next === out) return out;
    out = next;
  }
  return out;
}

export function isSecretParam(rawName: string): boolean {
  const name = decode(rawName).replace(/\[.*$/, '').replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  return SECRET_NAMES.has(name);
}

// Our own keys are recognisable wherever they appear (a path segment, a value under any name).
const OUR_KEYS = /dyn_(?:key|adm)_[A-Za-z0-9_-]+/g;

/** The URL with the value of every secret query parameter replaced, for logs. */
export function redactUrl(rawUrl: string): string {
  const url = rawUrl.replace(OUR_KEYS, '[REDACTED]');
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      return isSecretParam(name) ? `${name}=[REDACTED]` : part;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}
