import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queryable } from '../store/db.js';
import { ADMIN_KEY_HASH, getSetting, putSetting, putSettingIfAbsent } from '../store/settings.js';
import { generateApiKey, hashApiKey } from './secrets.js';

export interface AdminKeySetup {
  hash: string;
  /** Set when this start generated the key and wrote it to this file (mode 0600). */
  writtenTo?: string;
  source: 'environment' | 'stored' | 'generated';
}

/**
 * DYNAMO_ADMIN_KEY wins when set. Otherwise the first start generates a key,
 * keeps only its hash in the database and writes the key once to DATA_DIR/admin-key.
 */
export async function ensureAdminKey(db: Queryable, adminKey: string | undefined, dataDir: string): Promise<AdminKeySetup> {
  if (adminKey) {
    const hash = hashApiKey(adminKey);
    await putSetting(db, ADMIN_KEY_HASH, hash);
    return { hash, source: 'environment' };
  }
  const stored = await getSetting(db, ADMIN_KEY_HASH);
  if (stored) return { hash: stored, source: 'stored' };

  const { key } = generateApiKey('admin');
  const file = join(dataDir, 'admin-key');
  await mkdir(dataDir, { recursive: true });
  // Write the file before the hash: a crash in between leaves a key file that does not work yet, never a lost key.
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  const winner = await putSettingIfAbsent(db, ADMIN_KEY_HASH, hashApiKey(key));
  if (winner !== hashApiKey(key)) return { hash: winner, source: 'stored' };
  return { hash: winner, writtenTo: file, source: 'generated' };
}
