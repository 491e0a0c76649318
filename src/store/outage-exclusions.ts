import type { Db, Queryable } from './db.js';

/** An outage is named by its port and start (src/fleet/reliability/port-history.ts). */
export interface OutageKey {
  chargePointId: string;
  connectorId: number;
  startedAt: Date;
}

export interface ExclusionAuditEntry {
  action: 'set' | 'cleared';
  reason: string | null;
  notes: string | null;
  previous_reason: string | null;
  previous_notes: string | null;
  actor_key_id: string;
  at: Date;
}

const KEY = 'charge_point_id = $1 AND connector_id = $2 AND outage_started_at = $3';
const keyParams = (k: OutageKey) => [k.chargePointId, k.connectorId, k.startedAt];

/** Sets (or replaces) an outage's exclusion and appends the change to its audit trail, in one transaction. */
export async function setExclusion(db: Db, tenantId: string, k: OutageKey, reason: string, notes: string | null, actorKeyId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [before] = await tx.query<{ reason: string; notes: string | null }>(`SELECT reason, notes FROM outage_exclusions WHERE ${KEY} FOR UPDATE`, keyParams(k));
    await tx.query(
      `INSERT INTO outage_exclusions (tenant_id, charge_point_id, connector_id, outage_started_at, reason, notes, set_by_key_id, set_at)
       VALUES ($4, $1, $2, $3, $5, $6, $7, now())
       ON CONFLICT (charge_point_id, connector_id, outage_started_at)
       DO UPDATE SET reason = excluded.reason, notes = excluded.notes, set_by_key_id = excluded.set_by_key_id, set_at = excluded.set_at`,
      [...keyParams(k), tenantId, reason, notes, actorKeyId],
    );
    await audit(tx, tenantId, k, 'set', reason, notes, before, actorKeyId);
  });
}

/** Removes an outage's exclusion (the pre-fill applies again); the audit trail keeps what it was. False if there was none. */
export async function clearExclusion(db: Db, tenantId: string, k: OutageKey, actorKeyId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [before] = await tx.query<{ reason: string; notes: string | null }>(`DELETE FROM outage_exclusions WHERE ${KEY} RETURNING reason, notes`, keyParams(k));
    if (!before) return false;
    await audit(tx, tenantId, k, 'cleared', null, null, before, actorKeyId);
    return true;
  });
}

async function audit(
  tx: Queryable,
  tenantId: string,
  k: OutageKey,
  action: 'set' | 'cleared',
  reason: string | null,
  notes: string | null,
  before: { reason: string; notes: string | null } | undefined,
  actorKeyId: string,
) {
  await tx.query(
    `INSERT INTO outage_exclusion_audit (tenant_id, charge_point_id, connector_id, outage_started_at, action, reason, notes, previous_reason, previous_notes, actor_key_id)
     VALUES ($4, $1, $2, $3, $5, $6, $7, $8, $9, $10)`,
    [...keyParams(k), tenantId, action, reason, notes, before?.reason ?? null, before?.notes ?? null, actorKeyId],
  );
}

/** The outage's exclusion history, oldest first. */
export async function exclusionAudit(db: Queryable, k: OutageKey): Promise<ExclusionAuditEntry[]> {
  return db.query<ExclusionAuditEntry>(
    `SELECT action, reason, notes, previous_reason, previous_notes, actor_key_id, at FROM outage_exclusion_audit WHERE ${KEY} ORDER BY audit_id`,
    keyParams(k),
  );
}

/** Sets a charger's rated power (UK PCPR: rapid is 50 kW and above); null forgets it. */
export async function setRatedPower(db: Queryable, chargePointId: string, ratedPowerKw: number | null): Promise<void> {
  await db.query(
    `INSERT INTO charger_reliability_settings (charge_point_id, rated_power_kw, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (charge_point_id) DO UPDATE SET rated_power_kw = excluded.rated_power_kw, updated_at = now()`,
    [chargePointId, ratedPowerKw],
  );
}
