import type { Db, Queryable } from './db.js';
import { newId } from '../ids.js';
import { wireInstant } from '../instant.js';
import { emitChargerEvent } from './fleet-events.js';

export type MaintenanceType = 'scheduled' | 'reactive' | 'inspection';

export interface MaintenanceEvent {
  event_id: string;
  charge_point_id: string;
  type: MaintenanceType;
  description: string;
  scheduled_at: Date;
  completed_at: Date | null;
  technician: string | null;
  notes: string | null;
  created_at: Date;
  updated_at: Date;
  /** Made Inoperative for the window (set_unavailable at scheduled_at, set_available at completed_at). */
  take_offline: boolean;
  offline_command_id: string | null;
  online_command_id: string | null;
}

const COLUMNS = 'event_id, charge_point_id, type, description, scheduled_at, completed_at, technician, notes, created_at, updated_at, take_offline, offline_command_id, online_command_id';

export interface MaintenanceFields {
  type: MaintenanceType;
  description: string;
  scheduled_at: Date;
  completed_at?: Date | null;
  technician?: string | null;
  notes?: string | null;
  take_offline?: boolean;
}

/** The data of maintenance.created / maintenance.completed (docs/events.md). */
const eventData = (m: MaintenanceEvent) => ({
  maintenance_id: m.event_id,
  type: m.type,
  description: m.description,
  scheduled_at: wireInstant(m.scheduled_at),
  completed_at: m.completed_at && wireInstant(m.completed_at),
  technician: m.technician,
});

/** Records a maintenance event and tells the event log, in one transaction. */
export async function createMaintenance(db: Db, chargePointId: string, f: MaintenanceFields): Promise<MaintenanceEvent> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query<MaintenanceEvent>(
      `INSERT INTO maintenance_events (event_id, charge_point_id, type, description, scheduled_at, completed_at, technician, notes, take_offline)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [newId('mnt'), chargePointId, f.type, f.description, f.scheduled_at, f.completed_at ?? null, f.technician ?? null, f.notes ?? null, f.take_offline ?? false],
    );
    await emitChargerEvent(tx, chargePointId, 'maintenance.created', eventData(row!));
    if (row!.completed_at) await emitChargerEvent(tx, chargePointId, 'maintenance.completed', eventData(row!));
    return row!;
  });
}

/** Events whose window [scheduled_at, completed_at or open] touches [from, to); either bound may be absent. */
export async function listMaintenance(db: Queryable, chargePointId: string, from?: Date, to?: Date): Promise<MaintenanceEvent[]> {
  return db.query<MaintenanceEvent>(
    `SELECT ${COLUMNS} FROM maintenance_events
      WHERE charge_point_id = $1
        AND ($2::timestamptz IS NULL OR coalesce(completed_at, 'infinity') >= $2)
        AND ($3::timestamptz IS NULL OR scheduled_at < $3)
      ORDER BY scheduled_at DESC, event_id`,
    [chargePointId, from ?? null, to ?? null],
  );
}

export async function getMaintenance(db: Queryable, chargePointId: string, eventId: string): Promise<MaintenanceEvent | undefined> {
  const [row] = await db.query<MaintenanceEvent>(`SELECT ${COLUMNS} FROM maintenance_events WHERE charge_point_id = $1 AND event_id = $2`, [
    chargePointId,
    eventId,
  ]);
  return row;
}

/** Changes a maintenance event; the first time it gets a completed_at, maintenance.completed is written with it. */
export async function updateMaintenance(
  db: Db,
  chargePointId: string,
  eventId: string,
  f: Partial<MaintenanceFields>,
): Promise<MaintenanceEvent | undefined> {
  return db.transaction(async (tx) => {
    const [before] = await tx.query<{ completed_at: Date | null }>(
      'SELECT completed_at FROM maintenance_events WHERE charge_point_id = $1 AND event_id = $2 FOR UPDATE',
      [chargePointId, eventId],
    );
    if (!before) return undefined;
    const row = await applyUpdate(tx, chargePointId, eventId, f);
    if (row && row.completed_at && !before.completed_at) await emitChargerEvent(tx, chargePointId, 'maintenance.completed', eventData(row));
    return row;
  });
}

async function applyUpdate(db: Queryable, chargePointId: string, eventId: string, f: Partial<MaintenanceFields>): Promise<MaintenanceEvent | undefined> {
  const [row] = await db.query<MaintenanceEvent>(
    `UPDATE maintenance_events SET
       type = coalesce($3, type),
       description = coalesce($4, description),
       scheduled_at = coalesce($5, scheduled_at),
       completed_at = CASE WHEN $6 THEN $7::timestamptz ELSE completed_at END,
       technician = CASE WHEN $8 THEN $9 ELSE technician END,
       notes = CASE WHEN $10 THEN $11 ELSE notes END,
       take_offline = coalesce($12, take_offline),
       updated_at = now()
     WHERE charge_point_id = $1 AND event_id = $2 RETURNING ${COLUMNS}`,
    [
      chargePointId, eventId, f.type ?? null, f.description ?? null, f.scheduled_at ?? null,
      'completed_at' in f, f.completed_at ?? null,
      'technician' in f, f.technician ?? null,
      'notes' in f, f.notes ?? null,
      f.take_offline ?? null,
    ],
  );
  return row;
}

/** take_offline windows that have started and not yet sent their set_unavailable (nor been completed). */
export async function maintenanceDueOffline(db: Queryable, now: Date): Promise<(MaintenanceEvent & { tenant_id: string })[]> {
  return db.query(
    `SELECT ${COLUMNS.split(', ').map((c) => 'm.' + c).join(', ')}, c.tenant_id
       FROM maintenance_events m JOIN chargers c USING (charge_point_id)
      WHERE m.take_offline AND m.offline_command_id IS NULL AND m.completed_at IS NULL AND m.scheduled_at <= $1
      ORDER BY m.scheduled_at LIMIT 500`,
    [now],
  );
}

/** take_offline windows completed whose charger went offline for them and has not been given back. */
export async function maintenanceDueOnline(db: Queryable): Promise<(MaintenanceEvent & { tenant_id: string })[]> {
  return db.query(
    `SELECT ${COLUMNS.split(', ').map((c) => 'm.' + c).join(', ')}, c.tenant_id
       FROM maintenance_events m JOIN chargers c USING (charge_point_id)
      WHERE m.take_offline AND m.offline_command_id IS NOT NULL AND m.online_command_id IS NULL AND m.completed_at IS NOT NULL
      ORDER BY m.completed_at LIMIT 500`,
  );
}

/** Links a command to a window's start (or end), once: false when another node claimed it first. */
export async function claimMaintenanceCommand(db: Queryable, eventId: string, which: 'offline' | 'online', commandId: string): Promise<boolean> {
  const column = which === 'offline' ? 'offline_command_id' : 'online_command_id';
  const rows = await db.query(`UPDATE maintenance_events SET ${column} = $2 WHERE event_id = $1 AND ${column} IS NULL RETURNING 1`, [eventId, commandId]);
  return rows.length > 0;
}
