import { transactionRetried, type Db, type Page, type Queryable } from './db.js';
import { deleteLog, deleteLogOfDeleted } from './message-log.js';

export interface ChargerRecord {
  charge_point_id: string;
  tenant_id: string;
  site_id: string;
  vendor: string | null;
  model: string | null;
  serial_number: string | null;
  firmware_version: string | null;
  lenient: boolean;
  has_password: boolean;
  client_cert_required: boolean;
  registered_at: Date;
  updated_at: Date;
  /** The last FirmwareStatusNotification, and when it came. */
  firmware_status: { status: string; timestamp: Date } | null;
  /** The last DiagnosticsStatusNotification (2.x LogStatusNotification), and when it came. */
  diagnostics_status: { status: string; timestamp: Date } | null;
}

export interface ChargerAdmission {
  charge_point_id: string;
  tenant_id: string;
  site_id: string;
  password_hash: string | null;
  lenient: boolean;
  client_cert_required: boolean;
}

// Vendor, model and firmware come from the charger's BootNotification once it has
// sent one (charger_state), else from what the operator registered.
const SELECT = `
  SELECT c.charge_point_id, c.tenant_id, c.site_id,
         coalesce(s.vendor, c.vendor) AS vendor, coalesce(s.model, c.model) AS model,
         coalesce(s.serial_number, c.serial_number) AS serial_number,
         coalesce(s.firmware_version, c.firmware_version) AS firmware_version,
         c.lenient, c.password_hash IS NOT NULL AS has_password, c.client_cert_required, c.registered_at, c.updated_at,
         (SELECT json_build_object('status', m.payload->>'status', 'timestamp', m.received_at) FROM charger_messages m
           WHERE m.charge_point_id = c.charge_point_id AND m.kind = 'FirmwareStatus' ORDER BY m.occurred_at DESC, m.message_id DESC LIMIT 1) AS firmware_status,
         (SELECT json_build_object('status', m.payload->>'status', 'timestamp', m.received_at) FROM charger_messages m
           WHERE m.charge_point_id = c.charge_point_id AND m.kind = 'DiagnosticsStatus' ORDER BY m.occurred_at DESC, m.message_id DESC LIMIT 1) AS diagnostics_status
    FROM chargers c LEFT JOIN charger_state s USING (charge_point_id)`;

export interface NewCharger {
  chargePointId: string;
  tenantId: string;
  siteId: string;
  passwordHash: string | null;
  vendor?: string | null;
  model?: string | null;
  lenient?: boolean;
  clientCertRequired?: boolean;
  /** When the charger joined the fleet; defaults to now (history imports and backfills set it). */
  registeredAt?: Date;
}

/** Returns undefined when the identity is already taken (by any tenant). */
export async function insertCharger(db: Queryable, c: NewCharger): Promise<ChargerRecord | undefined> {
  const inserted = await db.query(
    `INSERT INTO chargers (charge_point_id, tenant_id, site_id, password_hash, vendor, model, lenient, registered_at, client_cert_required)
     VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, now()), $9) ON CONFLICT (charge_point_id) DO NOTHING RETURNING charge_point_id`,
    [c.chargePointId, c.tenantId, c.siteId, c.passwordHash, c.vendor ?? null, c.model ?? null, c.lenient ?? false, c.registeredAt ?? null, c.clientCertRequired ?? false],
  );
  if (inserted.length === 0) return undefined;
  return getCharger(db, c.tenantId, c.chargePointId);
}

export async function getCharger(db: Queryable, tenantId: string, id: string): Promise<ChargerRecord | undefined> {
  const [row] = await db.query<ChargerRecord>(`${SELECT} WHERE c.tenant_id = $1 AND c.charge_point_id = $2`, [tenantId, id]);
  return row;
}

/** Whether the tenant has this charger (another tenant's is as absent as a missing one). */
export async function chargerExists(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM chargers WHERE tenant_id = $1 AND charge_point_id = $2', [tenantId, id]);
  return rows.length > 0;
}

export async function listChargers(
  db: Queryable,
  tenantId: string,
  filter: { siteId?: string },
  page: Page,
): Promise<{ rows: ChargerRecord[]; total: number }> {
  const rows = await db.query<ChargerRecord>(
    `${SELECT} WHERE c.tenant_id = $1 AND ($2::text IS NULL OR c.site_id = $2)
      ORDER BY c.charge_point_id LIMIT $3 OFFSET $4`,
    [tenantId, filter.siteId ?? null, page.limit, page.offset],
  );
  const [count] = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM chargers WHERE tenant_id = $1 AND ($2::text IS NULL OR site_id = $2)',
    [tenantId, filter.siteId ?? null],
  );
  return { rows, total: count?.n ?? 0 };
}

export interface ChargerPatch {
  siteId?: string;
  passwordHash?: string | null;
  vendor?: string | null;
  model?: string | null;
  lenient?: boolean;
  clientCertRequired?: boolean;
}

export async function updateCharger(
  db: Queryable,
  tenantId: string,
  id: string,
  p: ChargerPatch,
): Promise<ChargerRecord | undefined> {
  const updated = await db.query(
    `UPDATE chargers SET
       site_id       = coalesce($3, site_id),
       password_hash = CASE WHEN $4 THEN $5 ELSE password_hash END,
       vendor        = CASE WHEN $6 THEN $7 ELSE vendor END,
       model         = CASE WHEN $8 THEN $9 ELSE model END,
       lenient       = coalesce($10, lenient),
       client_cert_required = coalesce($11, client_cert_required),
       updated_at    = now()
     WHERE tenant_id = $1 AND charge_point_id = $2 RETURNING charge_point_id`,
    [
      tenantId,
      id,
      p.siteId ?? null,
      'passwordHash' in p, p.passwordHash ?? null,
      'vendor' in p, p.vendor ?? null,
      'model' in p, p.model ?? null,
      p.lenient ?? null,
      p.clientCertRequired ?? null,
    ],
  );
  return updated.length ? getCharger(db, tenantId, id) : undefined;
}

/**
 * Deletes the charger and, by cascade, its whole recorded history, in one transaction. The cascade
 * locks the charger before its connections and sessions, ingest the other way round (a disconnect
 * closes the connection, then writes its event against the charger), so a delete that meets the
 * charger's last messages can be a deadlock victim: it is run again. The raw message log is
 * partitioned by day and has no foreign key: its rows go explicitly, in the same transaction, and
 * those of log inserts that were under way as it committed go just after (deleteLogOfDeleted).
 */
export async function deleteCharger(db: Db, tenantId: string, id: string): Promise<boolean> {
  const deleted = await transactionRetried(db, async (tx) => {
    const rows = await tx.query('DELETE FROM chargers WHERE tenant_id = $1 AND charge_point_id = $2 RETURNING 1', [tenantId, id]);
    if (rows.length === 0) return false;
    await deleteLog(tx, tenantId, id);
    return true;
  });
  if (deleted) await deleteLogOfDeleted(db, tenantId, id);
  return deleted;
}

/** One identity's admission facts (auto-registration reads back what it made). */
export async function findChargerForAdmission(db: Queryable, id: string): Promise<ChargerAdmission | undefined> {
  return (await findChargersForAdmission(db, [id]))[0];
}

/** The admission facts of many identities in one statement (a reconnect storm's lookups, batched). */
export async function findChargersForAdmission(db: Queryable, ids: readonly string[]): Promise<ChargerAdmission[]> {
  return db.query<ChargerAdmission>(
    'SELECT charge_point_id, tenant_id, site_id, password_hash, lenient, client_cert_required FROM chargers WHERE charge_point_id = ANY($1::text[])',
    [ids],
  );
}

/** Auto-registration (DYNAMO_AUTO_REGISTER): admits an unknown identity into the given site. */
export async function autoRegisterCharger(db: Queryable, id: string, siteId: string): Promise<ChargerAdmission | undefined> {
  await db.query(
    `INSERT INTO chargers (charge_point_id, tenant_id, site_id)
     SELECT $1, tenant_id, site_id FROM sites WHERE site_id = $2
     ON CONFLICT (charge_point_id) DO NOTHING`,
    [id, siteId],
  );
  return findChargerForAdmission(db, id);
}
