import type { Queryable } from '../db.js';

export interface SessionStart {
  chargePointId: string;
  connectorId: number;
  idTag: string | null;
  meterStartWh: number | null;
  startedAt: Date;
  receivedAt: Date;
  /** The charger's own id (OCPP 2.x); omitted for 1.6, where we hand out an integer. */
  transactionId?: string;
}

/**
 * Starts a session and returns its transaction id. Idempotent: a start retried
 * after a lost answer (same connector, idTag, meterStart, timestamp) returns the
 * id it got the first time. A session still open on that connector is ended at
 * this start: the charger never told us it stopped.
 */
export async function startSession(db: Queryable, s: SessionStart): Promise<{ transactionId: string; sessionId: number }> {
  const [row] = await db.query<{ transaction_id: string; session_id: number }>(
    `INSERT INTO sessions (charge_point_id, transaction_id, connector_id, id_tag, started_at, meter_start_wh,
                           last_meter_wh, last_meter_at, received_at)
     VALUES ($1, coalesce($2, nextval('ocpp16_transaction_ids')::text), $3, $4, $5, $6, $6, $5, $7)
     ON CONFLICT (charge_point_id, connector_id, id_tag, meter_start_wh, started_at)
       DO UPDATE SET received_at = sessions.received_at
     RETURNING transaction_id, session_id`,
    [s.chargePointId, s.transactionId ?? null, s.connectorId, s.idTag, s.startedAt, s.meterStartWh, s.receivedAt],
  );
  await db.query(
    `UPDATE sessions SET stopped_at = greatest(started_at, $3), meter_stop_wh = last_meter_wh, stop_reason = 'SupersededByNewSession'
      WHERE charge_point_id = $1 AND connector_id = $2 AND stopped_at IS NULL AND session_id <> $4 AND started_at <= $3`,
    [s.chargePointId, s.connectorId, s.startedAt, row!.session_id],
  );
  return { transactionId: row!.transaction_id, sessionId: row!.session_id };
}

export interface SessionEnd {
  chargePointId: string;
  transactionId: string;
  stoppedAt: Date;
  meterStopWh: number | null;
  reason: string | null;
}

/** Ends a session; returns its id, or undefined if the charger named a transaction we never saw. */
export async function endSession(db: Queryable, e: SessionEnd): Promise<number | undefined> {
  const [row] = await db.query<{ session_id: number }>(
    `UPDATE sessions SET
        stopped_at = CASE WHEN stopped_at IS NULL OR stop_reason = 'SupersededByNewSession' THEN greatest(started_at, $3) ELSE stopped_at END,
        meter_stop_wh = coalesce($4, meter_stop_wh, last_meter_wh),
        stop_reason = CASE WHEN stopped_at IS NULL OR stop_reason = 'SupersededByNewSession' THEN $5 ELSE stop_reason END,
        last_meter_wh = CASE WHEN $4::double precision IS NOT NULL AND (last_meter_at IS NULL OR last_meter_at <= $3) THEN $4 ELSE last_meter_wh END,
        last_meter_at = CASE WHEN $4::double precision IS NOT NULL AND (last_meter_at IS NULL OR last_meter_at <= $3) THEN $3 ELSE last_meter_at END
      WHERE charge_point_id = $1 AND transaction_id = $2
      RETURNING session_id`,
    [e.chargePointId, e.transactionId, e.stoppedAt, e.meterStopWh, e.reason],
  );
  return row?.session_id;
}

export async function findSessionId(db: Queryable, chargePointId: string, transactionId: string): Promise<number | undefined> {
  const [row] = await db.query<{ session_id: number }>(
    'SELECT session_id FROM sessions WHERE charge_point_id = $1 AND transaction_id = $2',
    [chargePointId, transactionId],
  );
  return row?.session_id;
}

export interface MeterSample {
  sampledAt: Date;
  measurand: string;
  phase: string | null;
  /** Normalised: Wh for energy, W for power. */
  value: number;
  unit: string;
  context: string | null;
}

/** Stores samples in one statement and moves the session's latest energy reading forward. */
export async function recordMeterSamples(
  db: Queryable,
  m: { chargePointId: string; connectorId: number | null; sessionId: number | null; samples: MeterSample[] },
): Promise<void> {
  if (m.samples.length === 0) return;
  const s = m.samples;
  await db.query(
    `INSERT INTO meter_samples (charge_point_id, session_id, connector_id, sampled_at, measurand, phase, value, unit, context)
     SELECT $1, $2::bigint, coalesce($3::integer, (SELECT connector_id FROM sessions WHERE session_id = $2::bigint), 0), *
       FROM unnest($4::timestamptz[], $5::text[], $6::text[], $7::double precision[], $8::text[], $9::text[])`,
    [
      m.chargePointId, m.sessionId, m.connectorId,
      s.map((x) => x.sampledAt), s.map((x) => x.measurand), s.map((x) => x.phase),
      s.map((x) => x.value), s.map((x) => x.unit), s.map((x) => x.context),
    ],
  );
  if (m.sessionId === null) return;
  const energy = s.filter((x) => x.measurand === 'Energy.Active.Import.Register' && x.phase === null);
  const latest = energy.reduce<MeterSample | undefined>((a, b) => (!a || b.sampledAt > a.sampledAt ? b : a), undefined);
  if (!latest) return;
  await db.query(
    `UPDATE sessions SET last_meter_wh = $2, last_meter_at = $3
      WHERE session_id = $1 AND (last_meter_at IS NULL OR last_meter_at <= $3)`,
    [m.sessionId, latest.value, latest.sampledAt],
  );
}
