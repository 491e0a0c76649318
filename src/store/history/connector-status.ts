import type { Queryable } from '../db.js';
import { newId } from '../../ids.js';

export interface StatusReport {
  chargePointId: string;
  connectorId: number;
  evseId: number | null;
  status: string;
  /** OCPP 1.6 errorCode; NoError (or null) means no fault on this connector. */
  errorCode: string | null;
  info: string | null;
  vendorId: string | null;
  vendorErrorCode: string | null;
  chargerTime: Date | null;
  receivedAt: Date;
  /** The time the status took effect: the charger's, unless absent or implausible. */
  at: Date;
}

/**
 * Records a connector status: the event, the status interval it starts, the
 * current view and (OCPP 1.6) the error event it raises or resolves.
 */
export async function recordStatus(db: Queryable, r: StatusReport): Promise<void> {
  await db.query(
    `INSERT INTO connector_status_events (charge_point_id, connector_id, evse_id, status, error_code, info, vendor_id,
       vendor_error_code, charger_time, received_at, effective_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [r.chargePointId, r.connectorId, r.evseId, r.status, r.errorCode, r.info, r.vendorId, r.vendorErrorCode, r.chargerTime, r.receivedAt, r.at],
  );
  await splitStatusInterval(db, r.chargePointId, r.connectorId, r.status, r.at);
  await db.query(
    `INSERT INTO connectors (charge_point_id, connector_id, evse_id, status, error_code, status_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (charge_point_id, connector_id) DO UPDATE SET
       status = excluded.status, error_code = excluded.error_code, status_at = excluded.status_at,
       evse_id = coalesce(excluded.evse_id, connectors.evse_id)
     WHERE connectors.status_at <= excluded.status_at`,
    [r.chargePointId, r.connectorId, r.evseId, r.status, r.errorCode, r.at],
  );
  await recordStatusError(db, r);
}

/**
 * The status interval containing `at` is split there, so a message queued while
 * the charger was offline lands at its own time even after later ones. Equal
 * neighbours are not merged: the boundary is what a later replay splits against.
 */
async function splitStatusInterval(db: Queryable, cp: string, connectorId: number, status: string, at: Date): Promise<void> {
  const [containing] = await db.query<{ started_at: Date; ended_at: Date | null; status: string }>(
    `SELECT started_at, ended_at, status FROM connector_status_intervals
      WHERE charge_point_id = $1 AND connector_id = $2 AND started_at <= $3 AND (ended_at IS NULL OR ended_at > $3)`,
    [cp, connectorId, at],
  );
  if (containing && containing.started_at.getTime() === at.getTime()) {
    await db.query(
      'UPDATE connector_status_intervals SET status = $4 WHERE charge_point_id = $1 AND connector_id = $2 AND started_at = $3',
      [cp, connectorId, at, status],
    );
    return;
  }
  let endsAt: Date | null;
  if (containing) {
    endsAt = containing.ended_at;
    await db.query(
      'UPDATE connector_status_intervals SET ended_at = $4 WHERE charge_point_id = $1 AND connector_id = $2 AND started_at = $3',
      [cp, connectorId, containing.started_at, at],
    );
  } else {
    // Earlier than anything recorded: this interval runs until the first known one.
    const [next] = await db.query<{ started_at: Date }>(
      `SELECT min(started_at) AS started_at FROM connector_status_intervals
        WHERE charge_point_id = $1 AND connector_id = $2 AND started_at > $3`,
      [cp, connectorId, at],
    );
    endsAt = next?.started_at ?? null;
  }
  await db.query(
    'INSERT INTO connector_status_intervals (charge_point_id, connector_id, status, started_at, ended_at) VALUES ($1, $2, $3, $4, $5)',
    [cp, connectorId, status, at, endsAt],
  );
}

/**
 * OCPP 1.6 error events (docs/metrics.md): one per connector and errorCode while
 * it persists; resolved when that connector reports NoError or another code.
 */
async function recordStatusError(db: Queryable, r: StatusReport): Promise<void> {
  const code = r.errorCode && r.errorCode !== 'NoError' ? r.errorCode : null;
  await db.query(
    `UPDATE error_events SET resolved_at = $4
      WHERE charge_point_id = $1 AND connector_id = $2 AND resolved_at IS NULL
        AND ($3::text IS NULL OR error_code <> $3) AND occurred_at <= $4`,
    [r.chargePointId, r.connectorId, code, r.at],
  );
  if (!code) return;
  await db.query(
    `INSERT INTO error_events (event_id, charge_point_id, connector_id, error_code, info, vendor_error_code, status, occurred_at, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (charge_point_id, connector_id, error_code) WHERE resolved_at IS NULL DO NOTHING`,
    [newId('evt'), r.chargePointId, r.connectorId, code, r.info, r.vendorErrorCode, r.status, r.at, r.receivedAt],
  );
}
