import type { Page, Queryable } from './db.js';
import { listPage } from './list-page.js';

/** A command as stored (migration 0010); `progress` is the firmware or diagnostics status reports it started. */
export interface CommandRow {
  command_id: string;
  tenant_id: string;
  charge_point_id: string;
  command: string;
  parameters: Record<string, unknown>;
  status: string;
  ocpp_version: string | null;
  ocpp_action: string | null;
  response: unknown;
  error: { code: string; description: string; details?: unknown } | null;
  round_trip_ms: number | null;
  timeout_ms: number;
  requested_by: string;
  bulk_id: string | null;
  created_at: Date;
  completed_at: Date | null;
  /** Built as JSON in SQL: the timestamps arrive as ISO text. */
  progress: { status: string; timestamp: string }[] | null;
}

/** What a command ends with: one write, in one place (CommandService.complete). */
export interface CommandCompletion {
  status: string;
  ocppVersion: string | null;
  ocppAction: string | null;
  response: unknown;
  error: { code: string; description: string; details?: unknown } | null;
  roundTripMs: number | null;
}

export interface NewCommand {
  commandId: string;
  tenantId: string;
  chargePointId: string;
  command: string;
  parameters: Record<string, unknown>;
  timeoutMs: number;
  requestedBy: string;
  bulkId?: string | null;
  nodeId: string;
}

// Firmware (UpdateFirmware) and diagnostics (GetDiagnostics / GetLog) progress arrives as the
// charger's status notifications, stored by ingest in charger_messages. A report belongs to the
// last such command sent to the charger before it: 1.6 reports carry no request id.
const PROGRESS = `
  CASE WHEN c.command IN ('update_firmware', 'get_diagnostics') THEN (
    SELECT coalesce(json_agg(json_build_object('status', m.payload->>'status', 'timestamp', m.received_at) ORDER BY m.received_at, m.message_id), '[]')
      FROM charger_messages m
     WHERE m.charge_point_id = c.charge_point_id
       AND m.kind = CASE c.command WHEN 'update_firmware' THEN 'FirmwareStatus' ELSE 'DiagnosticsStatus' END
       AND m.received_at >= c.created_at
       AND m.received_at < coalesce((SELECT min(n.created_at) FROM commands n
                                      WHERE n.charge_point_id = c.charge_point_id AND n.command = c.command
                                        AND n.status = 'Accepted' AND n.created_at > c.created_at), 'infinity'))
  END AS progress`;

const COLUMNS = `c.command_id, c.tenant_id, c.charge_point_id, c.command, c.parameters, c.status, c.ocpp_version, c.ocpp_action,
  c.response, c.error, c.round_trip_ms, c.timeout_ms, c.requested_by, c.bulk_id, c.created_at, c.completed_at, ${PROGRESS}`;

export async function insertCommand(db: Queryable, c: NewCommand): Promise<void> {
  await db.query(
    `INSERT INTO commands (command_id, tenant_id, charge_point_id, command, parameters, status, timeout_ms, requested_by, bulk_id, node_id)
     VALUES ($1, $2, $3, $4, $5, 'Pending', $6, $7, $8, $9)`,
    [c.commandId, c.tenantId, c.chargePointId, c.command, JSON.stringify(c.parameters), c.timeoutMs, c.requestedBy, c.bulkId ?? null, c.nodeId],
  );
}

/** Records the end of a command once; a command already completed (e.g. recovered as interrupted) is left alone. */
export async function completeCommand(db: Queryable, commandId: string, r: CommandCompletion): Promise<void> {
  await db.query(
    `UPDATE commands SET status = $2, ocpp_version = $3, ocpp_action = $4, response = $5, error = $6, round_trip_ms = $7, completed_at = now()
      WHERE command_id = $1 AND status = 'Pending'`,
    [commandId, r.status, r.ocppVersion, r.ocppAction, r.response === undefined ? null : JSON.stringify(r.response), r.error ? JSON.stringify(r.error) : null, r.roundTripMs],
  );
}

export async function getCommand(db: Queryable, tenantId: string, commandId: string): Promise<CommandRow | undefined> {
  const [row] = await db.query<CommandRow>(`SELECT ${COLUMNS} FROM commands c WHERE c.tenant_id = $1 AND c.command_id = $2`, [tenantId, commandId]);
  return row;
}

export async function getCommandsById(db: Queryable, commandIds: string[]): Promise<CommandRow[]> {
  if (commandIds.length === 0) return [];
  return db.query<CommandRow>(`SELECT ${COLUMNS} FROM commands c WHERE c.command_id = ANY($1::text[])`, [commandIds]);
}

export interface CommandFilter {
  chargePointId?: string;
  command?: string;
  status?: string;
  from?: Date;
  to?: Date;
  bulkId?: string;
}

/** Newest first. */
export async function listCommands(db: Queryable, tenantId: string, f: CommandFilter, page: Page): Promise<{ rows: CommandRow[]; total: number }> {
  const where = `c.tenant_id = $1 AND ($2::text IS NULL OR c.charge_point_id = $2) AND ($3::text IS NULL OR c.command = $3)
    AND ($4::text IS NULL OR c.status = $4) AND ($5::timestamptz IS NULL OR c.created_at >= $5) AND ($6::timestamptz IS NULL OR c.created_at < $6)
    AND ($7::text IS NULL OR c.bulk_id = $7)`;
  const params = [tenantId, f.chargePointId ?? null, f.command ?? null, f.status ?? null, f.from ?? null, f.to ?? null, f.bulkId ?? null];
  return listPage<CommandRow>(db, { columns: COLUMNS, from: 'commands c', where, orderBy: 'c.created_at DESC, c.command_id DESC' }, params, page);
}

/** A fresh OCPP 2.x remoteStartId / requestId. */
export async function nextRequestId(db: Queryable): Promise<number> {
  const [row] = await db.query<{ id: number }>(`SELECT (nextval('command_request_ids') % 2147483647)::int AS id`);
  return row!.id;
}

/**
 * Commands left Pending by a node that stopped (or crashed: its lease expired and recovery
 * marked it stopped) can never be answered: they end as Error "Interrupted".
 */
export async function interruptOrphanedCommands(db: Queryable): Promise<number> {
  const rows = await db.query(
    `UPDATE commands c SET status = 'Error', completed_at = now(),
            error = '{"code": "Interrupted", "description": "the node sending the command stopped before it was answered"}'
      WHERE c.status = 'Pending' AND c.node_id IN (SELECT node_id FROM nodes WHERE stopped_at IS NOT NULL)
      RETURNING 1`,
  );
  return rows.length;
}

export interface BulkRow {
  bulk_id: string;
  tenant_id: string;
  command: string;
  parameters: Record<string, unknown>;
  total: number;
  requested_by: string;
  created_at: Date;
  completed_at: Date | null;
  counts: Record<string, number>;
}

/** A bulk command and one Pending command per charger, together. */
export async function insertBulk(
  db: Queryable,
  b: { bulkId: string; tenantId: string; command: string; parameters: Record<string, unknown>; requestedBy: string; timeoutMs: number; nodeId: string },
  items: { commandId: string; chargePointId: string }[],
): Promise<void> {
  await db.query(
    `INSERT INTO command_bulks (bulk_id, tenant_id, command, parameters, total, requested_by) VALUES ($1, $2, $3, $4, $5, $6)`,
    [b.bulkId, b.tenantId, b.command, JSON.stringify(b.parameters), items.length, b.requestedBy],
  );
  await db.query(
    `INSERT INTO commands (command_id, tenant_id, charge_point_id, command, parameters, status, timeout_ms, requested_by, bulk_id, node_id)
     SELECT id, $3, cp, $4, $5, 'Pending', $6, $7, $8, $9 FROM unnest($1::text[], $2::text[]) AS u (id, cp)`,
    [items.map((i) => i.commandId), items.map((i) => i.chargePointId), b.tenantId, b.command, JSON.stringify(b.parameters), b.timeoutMs, b.requestedBy, b.bulkId, b.nodeId],
  );
}

export async function completeBulk(db: Queryable, bulkId: string): Promise<void> {
  await db.query('UPDATE command_bulks SET completed_at = now() WHERE bulk_id = $1 AND completed_at IS NULL', [bulkId]);
}

export async function getBulk(db: Queryable, tenantId: string, bulkId: string): Promise<BulkRow | undefined> {
  const [row] = await db.query<BulkRow>(
    `SELECT b.bulk_id, b.tenant_id, b.command, b.parameters, b.total, b.requested_by, b.created_at, b.completed_at,
            coalesce((SELECT json_object_agg(status, n) FROM (SELECT status, count(*)::int AS n FROM commands WHERE bulk_id = b.bulk_id GROUP BY status) s), '{}') AS counts
       FROM command_bulks b WHERE b.tenant_id = $1 AND b.bulk_id = $2`,
    [tenantId, bulkId],
  );
  return row;
}

/** The charger ids of a tenant among `ids` (to refuse a bulk naming a foreign or unknown charger). */
export async function tenantChargers(db: Queryable, tenantId: string, ids: string[]): Promise<Set<string>> {
  const rows = await db.query<{ charge_point_id: string }>(
    'SELECT charge_point_id FROM chargers WHERE tenant_id = $1 AND charge_point_id = ANY($2::text[])',
    [tenantId, ids],
  );
  return new Set(rows.map((r) => r.charge_point_id));
}

export async function siteChargers(db: Queryable, tenantId: string, siteId: string, max: number): Promise<string[] | undefined> {
  const [site] = await db.query('SELECT 1 FROM sites WHERE tenant_id = $1 AND site_id = $2', [tenantId, siteId]);
  if (!site) return undefined;
  const rows = await db.query<{ charge_point_id: string }>(
    'SELECT charge_point_id FROM chargers WHERE tenant_id = $1 AND site_id = $2 ORDER BY charge_point_id LIMIT $3',
    [tenantId, siteId, max],
  );
  return rows.map((r) => r.charge_point_id);
}
