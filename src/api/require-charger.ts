import type { Queryable } from '../store/db.js';
import { chargerExists } from '../store/chargers.js';
import { notFound } from './errors.js';

/** 404 unless the tenant has this charger: another tenant's charger is as absent as a missing one. */
export async function requireCharger(db: Queryable, tenantId: string, id: string, parameter = 'charge_point_id'): Promise<void> {
  if (!(await chargerExists(db, tenantId, id))) throw notFound('charger', parameter);
}
