import { Type } from 'typebox';
import type { ApiDeps, App } from '../types.js';
import { ALL_SCOPES, tenantOf } from '../auth.js';
import { unauthorized } from '../errors.js';
import { Timestamp, errors } from '../schemas/common.js';
import { getApiKey } from '../../store/api-keys.js';
import { getTenant } from '../../store/tenants.js';

/**
 * The key a request was made with, described to its holder: which tenant it speaks for and
 * which scopes it carries, so a client (the dashboard) can hide or disable what the key may
 * not do instead of learning it from 403s. Any valid tenant key may ask; never the secret.
 */
export async function apiKeyRoutes(app: App, deps: ApiDeps) {
  const { db } = deps;
  app.get(
    '/api/v1/cpo/api-key',
    {
      config: { auth: { role: 'tenant', scope: null } },
      schema: {
        tags: ['api keys'],
        summary: 'The API key of this request: its tenant and scopes (never the secret); needs no scope',
        response: {
          200: Type.Object({
            key_id: Type.String(),
            name: Type.String(),
            prefix: Type.String({ description: 'The first characters of the key, to tell keys apart.' }),
            tenant_id: Type.String(),
            tenant_name: Type.String(),
            scopes: Type.Array(Type.String(), { description: `Granted scopes, among: ${ALL_SCOPES.join(', ')}.` }),
            created_at: Timestamp,
          }),
          ...errors(401, 403),
        },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req);
      const keyId = req.principal?.kind === 'tenant' ? req.principal.keyId : '';
      const [key, tenant] = await Promise.all([getApiKey(db, tenantId, keyId), getTenant(db, tenantId)]);
      // Revoked between authentication and here: answer as authentication would have.
      if (!key || key.revoked_at || !tenant) throw unauthorized('unknown or revoked API key');
      return { key_id: key.key_id, name: key.name, prefix: key.prefix, tenant_id: tenantId, tenant_name: tenant.name, scopes: [...key.scopes], created_at: key.created_at };
    },
  );
}
