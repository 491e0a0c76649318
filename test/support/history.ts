import type { Queryable } from '../../src/store/db.js';

/** Reads what ingest stored, to check it in tests (the fleet API reads it the same way). */
export const history = (db: Queryable) => ({
  connections: (cp: string) =>
    db.query<{ connection_id: number; connected_at: Date; disconnected_at: Date | null; disconnect_reason: string | null; ocpp_version: string; last_heard_at: Date; remote_address: string | null; node_id: string }>(
      'SELECT * FROM connections WHERE charge_point_id = $1 ORDER BY connected_at, connection_id',
      [cp],
    ),
  state: async (cp: string) => (await db.query<Record<string, any>>('SELECT * FROM charger_state WHERE charge_point_id = $1', [cp]))[0],
  connectors: (cp: string) => db.query<Record<string, any>>('SELECT * FROM connectors WHERE charge_point_id = $1 ORDER BY connector_id', [cp]),
  intervals: (cp: string, connectorId: number) =>
    db.query<{ status: string; started_at: Date; ended_at: Date | null }>(
      'SELECT status, started_at, ended_at FROM connector_status_intervals WHERE charge_point_id = $1 AND connector_id = $2 ORDER BY started_at',
      [cp, connectorId],
    ),
  statusEvents: (cp: string) => db.query<Record<string, any>>('SELECT * FROM connector_status_events WHERE charge_point_id = $1 ORDER BY status_event_id', [cp]),
  errors: (cp: string) => db.query<Record<string, any>>('SELECT * FROM error_events WHERE charge_point_id = $1 ORDER BY occurred_at, event_id', [cp]),
  sessions: (cp: string) => db.query<Record<string, any>>('SELECT * FROM sessions WHERE charge_point_id = $1 ORDER BY session_id', [cp]),
  samples: (cp: string) => db.query<Record<string, any>>('SELECT * FROM meter_samples WHERE charge_point_id = $1 ORDER BY sampled_at, measurand', [cp]),
  messages: (cp: string, kind?: string) =>
    db.query<Record<string, any>>(
      'SELECT * FROM charger_messages WHERE charge_point_id = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY message_id',
      [cp, kind ?? null],
    ),
});

/**
 * Polls until `ok` holds and returns that value; throws, with the last value
 * seen, when it still does not hold after `timeoutMs`.
 */
export async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`eventually: not true after ${timeoutMs} ms; last value: ${describe(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function describe(v: unknown): string {
  const text = JSON.stringify(v, (_k, x) => (x instanceof Headers ? undefined : x)) ?? String(v);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/** The ids of a charger's connector.status_changed events in the log, in log order: what a webhook endpoint must receive. */
export const connectorEventIds = async (db: Queryable, chargePointId: string) =>
  (
    await db.query<{ id: string }>(
      `SELECT id::text AS id FROM fleet_events WHERE charge_point_id = $1 AND event = 'connector.status_changed' ORDER BY fleet_events.id`,
      [chargePointId],
    )
  ).map((r) => r.id);
