// The fleet every process benchmark starts from: one tenant, one site and `count` registered
// chargers BENCH-0 … BENCH-(count−1), made through the store layer.
import type { Db } from '../src/store/db.js';
import { createTenant } from '../src/store/tenants.js';
import { createSite } from '../src/store/sites.js';
import { insertCharger } from '../src/store/chargers.js';

export async function registerBenchFleet(db: Db, count: number): Promise<{ tenantId: string; siteId: string }> {
  const tenant = await createTenant(db, 'Bench');
  const site = await createSite(db, tenant.tenant_id, { name: 'Bench site' });
  await db.transaction(async (tx) => {
    for (let i = 0; i < count; i++) await insertCharger(tx, { chargePointId: `BENCH-${i}`, tenantId: tenant.tenant_id, siteId: site.site_id, passwordHash: null });
  });
  return { tenantId: tenant.tenant_id, siteId: site.site_id };
}
