import type { Queryable } from './db.js';

export const ADMIN_KEY_HASH = 'admin_key_sha256';

export async function getSetting(db: Queryable, key: string): Promise<string | undefined> {
  const [row] = await db.query<{ value: string }>('SELECT value FROM service_settings WHERE key = $1', [key]);
  return row?.value;
}

export async function putSetting(db: Queryable, key: string, value: string): Promise<void> {
  await db.query(
    `INSERT INTO service_settings (key, value) VALUES ($1, $2)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`,
    [key, value],
  );
}

/** Inserts only if absent; returns the value that is stored afterwards (the first writer wins). */
export async function putSettingIfAbsent(db: Queryable, key: string, value: string): Promise<string> {
  await db.query('INSERT INTO service_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
  return (await getSetting(db, key))!;
}
