import type { Db, Queryable } from './db.js';

/** A row for ocpp_messages (migration 0011); `frame` is the whole OCPP-J frame as JSON text. */
export interface MessageLogInsert {
  at: Date;
  tenantId: string;
  chargePointId: string;
  direction: 'in' | 'out';
  messageType: string;
  messageId: string | null;
  action: string | null;
  frame: string | null;
  raw: string | null;
  note: string | null;
}

const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The partitions of the message log this process knows to exist, so a batch asks the database
 * for a partition only on the first write of a day.
 */
export class MessageLogPartitions {
  private readonly known = new Set<string>();
  async ensure(db: Queryable, days: Iterable<string>): Promise<void> {
    for (const day of days) {
      if (this.known.has(day)) continue;
      await db.query('SELECT dynamo_message_log_partition($1::date)', [day]);
      this.known.add(day);
    }
  }
  forget(): void {
    this.known.clear();
  }
}

/**
 * The log has no foreign key (it is partitioned by day), so frames of a charger deleted while they
 * waited in the writer's buffer would be left behind. A log insert holds this advisory lock shared
 * and keeps only chargers that exist; once a charger's delete has committed, deleteLogOfDeleted
 * takes it exclusively for a moment, which waits for every insert that may still have seen the
 * charger, and then deletes what they wrote. An insert that takes the lock after that moment has a
 * snapshot without the charger. Advisory locks live in memory: no row lock, no WAL per batch
 * (docs/benchmarks.md, "The log and a deleted charger").
 */
const LOG_DELETE_LOCK = 742004;

/** Deletes a charger's log (in the caller's transaction, beside the charger's own delete). */
export async function deleteLog(db: Queryable, tenantId: string, cp: string): Promise<void> {
  await db.query('DELETE FROM ocpp_messages WHERE tenant_id = $1 AND charge_point_id = $2', [tenantId, cp]);
}

/**
 * After a charger's delete committed: waits for the log inserts under way (LOG_DELETE_LOCK, held
 * only for that wait, so log writes of other chargers pause for an insert's time, not a delete's)
 * and deletes the rows they wrote. A crash between the two leaves those rows to the retention.
 */
export async function deleteLogOfDeleted(db: Db, tenantId: string, cp: string): Promise<void> {
  await db.transaction((tx) => tx.query('SELECT pg_advisory_xact_lock($1)', [LOG_DELETE_LOCK]));
  await deleteLog(db, tenantId, cp);
}

/**
 * Inserts a batch in one statement, keeping only the rows of tenants whose log is on and of
 * chargers that still exist. The payload is taken out of the frame in SQL (CALL: element 3,
 * CALLRESULT: 2, CALLERROR: code, description, details). synchronous_commit is off for this
 * transaction only: the log never waits for a disk flush, and a database crash may lose its last
 * moments (it is a log that sheds under overload anyway); the OCPP history is committed as before.
 */
export async function insertMessageLog(db: Db, partitions: MessageLogPartitions, nodeId: string, rows: readonly MessageLogInsert[]): Promise<number> {
  if (rows.length === 0) return 0;
  const days = new Set(rows.map((r) => dayOf(r.at)));
  await partitions.ensure(db, days);
  return db.transaction(async (tx) => {
    // A statement of its own: the insert's snapshot is taken after the lock is granted (LOG_DELETE_LOCK).
    await tx.query(`SELECT set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock_shared($1)`, [LOG_DELETE_LOCK]);
    const inserted = await tx.query<{ n: number }>(
      // The rows travel as one JSON text, not ten arrays: pg writes an array literal by escaping every
      // element in JavaScript, which made this insert one of the largest allocators of ingest
      // (docs/benchmarks.md "Where a message's time goes"); JSON.stringify does it in one pass.
      `WITH u AS (
         SELECT * FROM ROWS FROM (
                  json_to_recordset($1::json) AS (at timestamptz, "tenantId" text, "chargePointId" text, direction text, "messageType" text,
                                                  "messageId" text, action text, frame text, raw text, note text))
                WITH ORDINALITY AS u (at, tenant_id, charge_point_id, direction, message_type, message_id, action, frame, raw, note, ord)),
       ins AS (
         INSERT INTO ocpp_messages (at, tenant_id, charge_point_id, node_id, direction, message_type, message_id, action, payload, raw, note)
         SELECT u.at, u.tenant_id, u.charge_point_id, $2, u.direction, u.message_type, u.message_id, u.action,
                CASE u.message_type
                  WHEN 'CALL' THEN u.frame::jsonb -> 3
                  WHEN 'CALLRESULT' THEN u.frame::jsonb -> 2
                  WHEN 'CALLERROR' THEN jsonb_build_object('error_code', u.frame::jsonb -> 2, 'error_description', u.frame::jsonb -> 3, 'error_details', u.frame::jsonb -> 4)
                END,
                u.raw, u.note
           FROM u JOIN tenants t ON t.tenant_id = u.tenant_id AND t.message_log
          -- The charger looked up by its key alone (LIMIT keeps the subquery from being flattened):
          -- as a join on both columns, PostgreSQL without fresh statistics for chargers walked the
          -- tenant's whole index for every row, 12,000 buffers a batch at 3,000 chargers
          -- (docs/benchmarks.md "50,000 chargers: two more plans that read the fleet").
          CROSS JOIN LATERAL (SELECT c.tenant_id FROM chargers c WHERE c.charge_point_id = u.charge_point_id LIMIT 1) c
          WHERE c.tenant_id = u.tenant_id
          ORDER BY u.ord
         RETURNING 1)
       SELECT count(*)::int AS n FROM ins`,
      [JSON.stringify(rows), nodeId],
    );
    return inserted[0]?.n ?? 0;
  });
}

export interface MessageLogEntry {
  seq: string;
  at: Date;
  direction: string;
  message_type: string;
  message_id: string | null;
  action: string | null;
  payload: unknown;
  raw: string | null;
  note: string | null;
  node_id: string;
}

export interface MessageLogQuery {
  tenantId: string;
  chargePointId: string;
  from?: Date;
  to?: Date;
  action?: string;
  direction?: 'in' | 'out';
  /** Only entries older than this seq (keyset pagination, newest first). */
  before?: bigint;
  limit: number;
}

/** One page, newest first: keyset on seq, so entries written meanwhile never shift a later page. */
export async function pageMessageLog(db: Queryable, q: MessageLogQuery): Promise<MessageLogEntry[]> {
  return db.query<MessageLogEntry>(
    `SELECT seq::text AS seq, at, direction, message_type, message_id, action, payload, raw, note, node_id
       FROM ocpp_messages
      WHERE tenant_id = $1 AND charge_point_id = $2
        AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
        AND ($5::text IS NULL OR action = $5) AND ($6::text IS NULL OR direction = $6)
        AND ($7::bigint IS NULL OR seq < $7)
      ORDER BY ocpp_messages.seq DESC LIMIT $8`,
    [q.tenantId, q.chargePointId, q.from ?? null, q.to ?? null, q.action ?? null, q.direction ?? null, q.before?.toString() ?? null, q.limit],
  );
}

/** Makes today's and tomorrow's partitions and drops those wholly older than the retention. */
export async function maintainMessageLog(db: Db, partitions: MessageLogPartitions, retentionDays: number, now = new Date()): Promise<string[]> {
  const day = 86_400_000;
  await partitions.ensure(db, [dayOf(now), dayOf(new Date(now.getTime() + day))]);
  const [row] = await db.query<{ dropped: string[] }>('SELECT dynamo_message_log_drop_before($1) AS dropped', [new Date(now.getTime() - retentionDays * day)]);
  const dropped = row?.dropped ?? [];
  if (dropped.length) partitions.forget();
  return dropped;
}

export async function setTenantMessageLog(db: Queryable, tenantId: string, on: boolean): Promise<boolean> {
  const rows = await db.query('UPDATE tenants SET message_log = $2 WHERE tenant_id = $1 RETURNING 1', [tenantId, on]);
  return rows.length > 0;
}
