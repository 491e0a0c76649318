import type { Queryable } from '../db.js';

export interface BootInfo {
  vendor: string;
  model: string;
  serialNumber?: string | null;
  boxSerialNumber?: string | null;
  firmwareVersion?: string | null;
  iccid?: string | null;
  imsi?: string | null;
  meterType?: string | null;
  meterSerial?: string | null;
}

export async function recordBoot(db: Queryable, chargePointId: string, at: Date, b: BootInfo): Promise<void> {
  await db.query(
    `INSERT INTO charger_state (charge_point_id, vendor, model, serial_number, box_serial_number, firmware_version,
                                iccid, imsi, meter_type, meter_serial, booted_at, last_seen)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
     ON CONFLICT (charge_point_id) DO UPDATE SET
       vendor = excluded.vendor, model = excluded.model, serial_number = excluded.serial_number,
       box_serial_number = excluded.box_serial_number, firmware_version = excluded.firmware_version,
       iccid = excluded.iccid, imsi = excluded.imsi, meter_type = excluded.meter_type,
       meter_serial = excluded.meter_serial, booted_at = excluded.booted_at,
       last_seen = greatest(charger_state.last_seen, excluded.last_seen)`,
    [
      chargePointId, b.vendor, b.model, b.serialNumber ?? null, b.boxSerialNumber ?? null, b.firmwareVersion ?? null,
      b.iccid ?? null, b.imsi ?? null, b.meterType ?? null, b.meterSerial ?? null, at,
    ],
  );
}

export async function recordFirmwareStatus(db: Queryable, chargePointId: string, status: string): Promise<void> {
  await db.query('UPDATE charger_state SET firmware_status = $2 WHERE charge_point_id = $1', [chargePointId, status]);
}

export async function recordDiagnosticsStatus(db: Queryable, chargePointId: string, status: string): Promise<void> {
  await db.query('UPDATE charger_state SET diagnostics_status = $2 WHERE charge_point_id = $1', [chargePointId, status]);
}

/** Coalesced last_seen / last_heartbeat for many chargers in one statement; times only move forward. */
export async function touchChargers(
  db: Queryable,
  ids: string[],
  seenAt: Date[],
  heartbeatAt: (Date | null)[],
): Promise<void> {
  if (ids.length === 0) return;
  // Upsert, joined to chargers: a charger deleted meanwhile is skipped instead of failing the batch.
  await db.query(
    `INSERT INTO charger_state (charge_point_id, last_seen, last_heartbeat)
     SELECT v.id, v.seen, v.hb FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS v(id, seen, hb)
       JOIN chargers c ON c.charge_point_id = v.id
     ON CONFLICT (charge_point_id) DO UPDATE SET
        last_seen = greatest(charger_state.last_seen, excluded.last_seen),
        last_heartbeat = CASE WHEN excluded.last_heartbeat IS NULL THEN charger_state.last_heartbeat
                              ELSE greatest(charger_state.last_heartbeat, excluded.last_heartbeat) END`,
    [ids, seenAt, heartbeatAt],
  );
}
