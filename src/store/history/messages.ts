import type { Queryable } from '../db.js';

/** Records a message that has no table of its own (Authorize, DataTransfer, violations, …). */
export async function recordChargerMessage(
  db: Queryable,
  m: { chargePointId: string; kind: string; payload: unknown; occurredAt: Date; receivedAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO charger_messages (charge_point_id, kind, payload, occurred_at, received_at)
     VALUES ($1, $2, $3::jsonb, $4, $5)`,
    [m.chargePointId, m.kind, JSON.stringify(m.payload ?? null), m.occurredAt, m.receivedAt],
  );
}
