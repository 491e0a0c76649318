import type { Queryable } from './db.js';
import { newId } from '../ids.js';

export interface ApiKeyRecord {
  key_id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const COLUMNS = 'key_id, tenant_id, name, prefix, scopes, created_at, revoked_at, last_used_at';

export async function insertApiKey(
  db: Queryable,
  key: { tenantId: string; name: string; prefix: string; keyHash: string; scopes: string[] },
): Promise<ApiKeyRecord> {
  const [row] = await db.query<ApiKeyRecord>(
    `INSERT INTO api_keys (key_id, tenant_id, name, prefix, key_hash, scopes)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [newId('key'), key.tenantId, key.name, key.prefix, key.keyHash, key.scopes],
  );
  return row!;
}

export async function findActiveKeyByHash(
  db: Queryable,
  keyHash: string,
): Promise<(ApiKeyRecord & { key_hash: string }) | undefined> {
  const [row] = await db.query<ApiKeyRecord & { key_hash: string }>(
    `SELECT ${COLUMNS}, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
    [keyHash],
  );
  return row;
}

export async function listApiKeys(db: Queryable, tenantId: string): Promise<ApiKeyRecord[]> {
  return db.query<ApiKeyRecord>(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, key_id`, [
    tenantId,
  ]);
}

/** Returns the key as revoked, or undefined if the tenant has no such key. Revoking twice keeps the first time. */
export async function revokeApiKey(db: Queryable, tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
  const [row] = await db.query<ApiKeyRecord>(
    `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
      WHERE tenant_id = $1 AND key_id = $2 RETURNING ${COLUMNS}`,
    [tenantId, keyId],
  );
  return row;
}

export async function touchApiKey(db: Queryable, keyId: string, at: Date): Promise<void> {
  await db.query('UPDATE api_keys SET last_used_at = $2 WHERE key_id = $1', [keyId, at]);
}

export async function getApiKey(db: Queryable, tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
  const [row] = await db.query<ApiKeyRecord>(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND key_id = $2`, [tenantId, keyId]);
  return row;
}

/** Of these keys, those that still authenticate (not revoked, not deleted with their tenant). */
export async function activeKeyIds(db: Queryable, keyIds: readonly string[]): Promise<Set<string>> {
  if (keyIds.length === 0) return new Set();
  const rows = await db.query<{ key_id: string }>('SELECT key_id FROM api_keys WHERE key_id = ANY($1::text[]) AND revoked_at IS NULL', [
    keyIds,
  ]);
  return new Set(rows.map((r) => r.key_id));
}
