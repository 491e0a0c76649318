import type { Page, Queryable } from './db.js';
import { listPage } from './list-page.js';
import { newId } from '../ids.js';

export interface Tenant {
  tenant_id: string;
  name: string;
  created_at: Date;
  /** Whether the raw OCPP message log keeps this tenant's frames. */
  message_log: boolean;
}

export async function createTenant(db: Queryable, name: string): Promise<Tenant> {
  const [row] = await db.query<Tenant>(
    'INSERT INTO tenants (tenant_id, name) VALUES ($1, $2) RETURNING tenant_id, name, created_at, message_log',
    [newId('ten'), name],
  );
  return row!;
}

export async function listTenants(db: Queryable, page: Page): Promise<{ rows: Tenant[]; total: number }> {
  return listPage<Tenant>(db, { columns: 'tenant_id, name, created_at, message_log', from: 'tenants', where: 'true', orderBy: 'created_at, tenant_id' }, [], page);
}

export async function getTenant(db: Queryable, tenantId: string): Promise<Tenant | undefined> {
  const [row] = await db.query<Tenant>('SELECT tenant_id, name, created_at, message_log FROM tenants WHERE tenant_id = $1', [tenantId]);
  return row;
}
