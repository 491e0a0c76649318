import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../store/db.js';
import { findActiveKeyByHash, touchApiKey } from '../store/api-keys.js';
import { hashApiKey, safeEqualHex } from '../security/secrets.js';
import { badRequest, forbidden, unauthorized } from './errors.js';

export const ALL_SCOPES = [
  'read:charge_points',
  'write:charge_points',
  'read:sites',
  'write:sites',
  'read:maintenance',
  'write:maintenance',
  'write:webhooks',
] as const;
export type Scope = (typeof ALL_SCOPES)[number];

export type Principal =
  | { kind: 'admin' }
  | { kind: 'tenant'; tenantId: string; keyId: string; scopes: ReadonlySet<string> };

/** What a route demands: set as `config.auth` on each route; routes without it are public. */
export type AuthRequirement = { role: 'admin' } | { role: 'tenant'; scope: Scope };

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

const QUERY_KEY_PARAMS = /^(api_key|apikey|key|token|access_token)$/i;

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
}

/** last_used_at is kept to the minute: at most one write per key per minute, off the request path. */
const LAST_USED_PRECISION_MS = 60_000;

/**
 * Authenticates every request whose route declares `config.auth`. Admin and
 * tenant powers are disjoint: the admin key manages tenants and keys but reads
 * no fleet (it belongs to no tenant); tenant keys never reach admin routes.
 */
export function registerAuth(app: FastifyInstance, deps: AuthDeps): void {
  app.addHook('onRequest', async (req) => {
    const need = req.routeOptions.config.auth;
    if (!need) return;
    const query = new URLSearchParams(req.url.split('?')[1] ?? '');
    for (const name of query.keys()) {
      if (QUERY_KEY_PARAMS.test(name)) {
        throw badRequest(name, 'API keys are never accepted in the query string; send "Authorization: Bearer <key>"', 'key_in_query');
      }
    }
    const key = presentedKey(req);
    if (!key) throw unauthorized('missing API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"');
    const hash = hashApiKey(key);
    if (safeEqualHex(hash, deps.adminKeyHash)) {
      req.principal = { kind: 'admin' };
    } else {
      const record = await findActiveKeyByHash(deps.db, hash);
      if (!record || !safeEqualHex(record.key_hash, hash)) throw unauthorized('unknown or revoked API key');
      req.principal = { kind: 'tenant', tenantId: record.tenant_id, keyId: record.key_id, scopes: new Set(record.scopes) };
      const now = new Date();
      if (!record.last_used_at || now.getTime() - record.last_used_at.getTime() > LAST_USED_PRECISION_MS) {
        touchApiKey(deps.db, record.key_id, now).catch((err) => req.log.warn({ err }, 'could not record API key use'));
      }
    }
    if (need.role === 'admin' && req.principal.kind !== 'admin') {
      throw forbidden('admin_only', 'this route needs the admin key (DYNAMO_ADMIN_KEY); tenant keys cannot manage tenants or keys');
    }
    if (need.role === 'tenant') {
      if (req.principal.kind !== 'tenant') {
        throw forbidden('tenant_key_required', 'the admin key belongs to no tenant; use a tenant API key for fleet routes');
      }
      if (!req.principal.scopes.has(need.scope)) {
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
