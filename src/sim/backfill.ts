import { readFile } from 'node:fs/promises';
import type { Db } from '../store/db.js';

export interface BackfillOptions {
  tenantId: string;
  days: number;
  chargers: number;
  sites: number;
  /** Site ids are `${sitePrefix}0` … */
  sitePrefix: string;
  /** Charger ids are `${chargerPrefix}00001` …, as the simulator names them. */
  chargerPrefix: string;
}

const SQL = new URL('./history-backfill.sql', import.meta.url);
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Writes `days` of plausible history for a new fleet of sites and chargers (history-backfill.sql). */
export async function backfillHistory(db: Db, o: BackfillOptions): Promise<void> {
  if (!/^[A-Za-z0-9_-]+$/.test(o.sitePrefix + o.chargerPrefix)) throw new Error('prefixes may hold letters, digits, _ and - only');
  const sql = (await readFile(SQL, 'utf8'))
    .replaceAll(':tenant', literal(o.tenantId))
    .replaceAll(':site_prefix', literal(o.sitePrefix))
    .replaceAll(':charger_prefix', literal(o.chargerPrefix))
    .replaceAll(':sites', String(Math.max(1, Math.floor(o.sites))))
    .replaceAll(':days', String(Math.max(1, Math.floor(o.days))))
    .replaceAll(':chargers', String(Math.max(1, Math.floor(o.chargers))));
  await db.exec(sql);
}
