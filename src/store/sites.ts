import type { Page, Queryable } from './db.js';
import { listPage } from './list-page.js';
import { newId } from '../ids.js';

export interface Site {
  site_id: string;
  tenant_id: string;
  name: string;
  address: string | null;
  lat: number | null;
  lng: number | null;
  timezone: string;
  created_at: Date;
  updated_at: Date;
}

export type SiteFields = Pick<Site, 'name'> & Partial<Pick<Site, 'address' | 'lat' | 'lng' | 'timezone'>>;

const COLUMNS = 'site_id, tenant_id, name, address, lat, lng, timezone, created_at, updated_at';

export async function createSite(db: Queryable, tenantId: string, f: SiteFields): Promise<Site> {
  const [row] = await db.query<Site>(
    `INSERT INTO sites (site_id, tenant_id, name, address, lat, lng, timezone)
     VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, 'UTC')) RETURNING ${COLUMNS}`,
    [newId('site'), tenantId, f.name, f.address ?? null, f.lat ?? null, f.lng ?? null, f.timezone ?? null],
  );
  return row!;
}

export async function getSite(db: Queryable, tenantId: string, siteId: string): Promise<Site | undefined> {
  const [row] = await db.query<Site>(`SELECT ${COLUMNS} FROM sites WHERE tenant_id = $1 AND site_id = $2`, [
    tenantId,
    siteId,
  ]);
  return row;
}

export async function listSites(db: Queryable, tenantId: string, page: Page): Promise<{ rows: Site[]; total: number }> {
  return listPage<Site>(db, { columns: COLUMNS, from: 'sites', where: 'tenant_id = $1', orderBy: 'created_at, site_id' }, [tenantId], page);
}

/** Only the fields present in `patch` change; null clears an optional field. */
export async function updateSite(
  db: Queryable,
  tenantId: string,
  siteId: string,
  patch: Partial<SiteFields>,
): Promise<Site | undefined> {
  const [row] = await db.query<Site>(
    `UPDATE sites SET
       name     = CASE WHEN $3 THEN $4 ELSE name END,
       address  = CASE WHEN $5 THEN $6 ELSE address END,
       lat      = CASE WHEN $7 THEN $8::double precision ELSE lat END,
       lng      = CASE WHEN $9 THEN $10::double precision ELSE lng END,
       timezone = CASE WHEN $11 THEN coalesce($12, 'UTC') ELSE timezone END,
       updated_at = now()
     WHERE tenant_id = $1 AND site_id = $2 RETURNING ${COLUMNS}`,
    [
      tenantId,
      siteId,
      'name' in patch, patch.name ?? null,
      'address' in patch, patch.address ?? null,
      'lat' in patch, patch.lat ?? null,
      'lng' in patch, patch.lng ?? null,
      'timezone' in patch, patch.timezone ?? null,
    ],
  );
  return row;
}

export type DeleteSiteResult = 'deleted' | 'not_found' | 'has_chargers';

export async function deleteSite(db: Queryable, tenantId: string, siteId: string): Promise<DeleteSiteResult> {
  const [row] = await db.query<{ found: boolean; chargers: number; deleted: number }>(
    `WITH target AS (SELECT site_id FROM sites WHERE tenant_id = $1 AND site_id = $2),
          used AS (SELECT count(*)::int AS n FROM chargers WHERE site_id IN (SELECT site_id FROM target)),
          gone AS (DELETE FROM sites WHERE site_id IN (SELECT site_id FROM target) AND (SELECT n FROM used) = 0 RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM target) AS found, (SELECT n FROM used) AS chargers, (SELECT count(*)::int FROM gone) AS deleted`,
    [tenantId, siteId],
  );
  if (!row?.found) return 'not_found';
  return row.deleted > 0 ? 'deleted' : 'has_chargers';
}
