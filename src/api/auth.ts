import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../store/db.js';
import { findActiveKeyByHash, touchApiKey } from '../store/api-keys.js';
import { hashApiKey, safeEqualHex } from '../security/secrets.js';
import { normalizeIP } from '@fastify/rate-limit';
import { ApiError, RateLimitedError, badRequest, forbidden, unauthorized } from './errors.js';
import { isSecretParam } from './secret-params.js';

export const ALL_SCOPES = [
  'read:charge_points',
  'write:charge_points',
  'read:sites',
  'write:sites',
  'read:maintenance',
  'write:maintenance',
  'write:webhooks',
  'read:events',
  'read:alerts',
  'write:alerts',
  'read:commands',
  'write:commands',
  'read:sessions',
  'read:messages',
  'read:reliability',
  'write:reliability',
] as const;
export type Scope = (typeof ALL_SCOPES)[number];

export type Principal =
  | { kind: 'admin' }
  | { kind: 'tenant'; tenantId: string; keyId: string; scopes: ReadonlySet<string> };

/**
 * What a route demands: set as `config.auth` on every route. Deny by default: a route that
 * declares nothing is refused at startup, so a public route says `{ role: 'public' }`.
 */
export type AuthRequirement =
  | { role: 'public' }
  | { role: 'admin' }
  // scope null: any key of the tenant, whatever its scopes (only for a key to describe itself).
  | { role: 'tenant'; scope: Scope | null };

/** For the health, metrics and docs routes: served without a key. */
export const PUBLIC: { auth: AuthRequirement } = { auth: { role: 'public' } };

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

function presentedKey(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw unauthorized('Authorization header must be "Bearer <key>"');
    return m[1];
  }
  const xKey = req.headers['x-api-key'];
  return typeof xKey === 'string' && xKey.length > 0 ? xKey : undefined;
}

export interface AuthDeps {
  db: Queryable;
  adminKeyHash: string;
  /** Failed authentications per minute from one client address before it is refused with 429. */
  authFailuresPerMinute: number;
}

/** last_used_at is kept to the minute: at most one write per key per minute, off the request path. */
const LAST_USED_PRECISION_MS = 60_000;
const FAILURE_WINDOW_MS = 60_000;

/** The rate-limit bucket of a request: its resolved key (never the raw header), else its address. */
export function rateLimitKey(req: FastifyRequest): string {
  const p = req.principal;
  if (p?.kind === 'admin') return 'admin';
  if (p?.kind === 'tenant') return `key:${p.keyId}`;
  return `ip:${normalizeIP(req.ip)}`;
}

/**
 * Authenticates every request whose route declares `config.auth` (onRequest), then checks its
 * powers (preParsing). The per-key rate limit runs between the two, so it counts by resolved key
 * and also counts requests that are then refused 403. Admin and tenant powers are disjoint: the
 * admin key manages tenants and keys but reads no fleet (it belongs to no tenant); tenant keys
 * never reach admin routes.
 */
export function registerAuth(app: FastifyInstance, deps: AuthDeps): void {
  // Checked once every plugin has had its say (a scope may set config.auth on a plugin's routes).
  const routes: { method: unknown; url: string; config?: { auth?: AuthRequirement } }[] = [];
  app.addHook('onRoute', (route) => void routes.push(route));
  app.addHook('onReady', async () => {
    const open = routes.filter((r) => !r.config?.auth).map((r) => `${String(r.method)} ${r.url}`);
    if (open.length) throw new Error(`routes without an auth requirement (config.auth): ${open.join(', ')}`);
  });
  // Failed attempts are counted per address and checked before the database is asked, so
  // guessing keys (or a client stuck on a revoked one) costs no lookups once it is throttled.
  const failures = app.createRateLimit({
    max: deps.authFailuresPerMinute,
    timeWindow: FAILURE_WINDOW_MS,
    keyGenerator: (req) => `auth-failure:${normalizeIP(req.ip)}`,
  });
  const failed = async (req: FastifyRequest, err: ApiError): Promise<never> => {
    await failures(req);
    req.log.info({ remoteAddress: req.ip }, 'API authentication failed');
    throw err;
  };

  app.addHook('onRequest', async (req) => {
    const need = req.routeOptions.config.auth;
    if (!need || need.role === 'public') return;
    const query = new URLSearchParams(req.url.split('?')[1] ?? '');
    for (const name of query.keys()) {
      if (isSecretParam(name)) {
        throw badRequest(name, 'API keys are never accepted in the query string; send "Authorization: Bearer <key>"', 'key_in_query');
      }
    }
    const seen = await failures(req, { increment: false });
    if (!seen.isAllowed && seen.remaining === 0) {
      req.log.warn({ remoteAddress: req.ip, retryAfterSec: seen.ttlInSeconds }, 'API authentication throttled: too many failures from this address');
      throw new RateLimitedError(`too many failed authentications from this address; retry in ${seen.ttlInSeconds} s`, seen.ttlInSeconds);
    }
    let key: string | undefined;
    try {
      key = presentedKey(req);
    } catch (err) {
      return failed(req, err as ApiError);
    }
    if (!key) throw unauthorized('missing API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"');
    const hash = hashApiKey(key);
    if (safeEqualHex(hash, deps.adminKeyHash)) {
      req.principal = { kind: 'admin' };
      return;
    }
    const record = await findActiveKeyByHash(deps.db, hash);
    if (!record || !safeEqualHex(record.key_hash, hash)) return failed(req, unauthorized('unknown or revoked API key'));
    req.principal = { kind: 'tenant', tenantId: record.tenant_id, keyId: record.key_id, scopes: new Set(record.scopes) };
    const now = new Date();
    if (!record.last_used_at || now.getTime() - record.last_used_at.getTime() > LAST_USED_PRECISION_MS) {
      touchApiKey(deps.db, record.key_id, now).catch((err) => req.log.warn({ err }, 'could not record API key use'));
    }
  });

  app.addHook('preParsing', async (req) => {
    const need = req.routeOptions.config.auth;
    if (!need || need.role === 'public') return;
    // Deny by default: a route that demands auth is never served without a principal.
    if (!req.principal) throw unauthorized('missing API key');
    if (need.role === 'admin' && req.principal.kind !== 'admin') {
      throw forbidden('admin_only', 'this route needs the admin key (DYNAMO_ADMIN_KEY); tenant keys cannot manage tenants or keys');
    }
    if (need.role === 'tenant') {
      if (req.principal.kind !== 'tenant') {
        throw forbidden('tenant_key_required', 'the admin key belongs to no tenant; use a tenant API key for fleet routes');
      }
      if (need.scope !== null && !req.principal.scopes.has(need.scope)) {
        throw forbidden('missing_scope', `this API key lacks the scope "${need.scope}"`);
      }
    }
  });
}

/** The tenant of an authenticated tenant route (the hook guarantees it). */
export function tenantOf(req: FastifyRequest): string {
  if (req.principal?.kind !== 'tenant') throw forbidden('tenant_key_required', 'a tenant API key is required');
  return req.principal.tenantId;
}
