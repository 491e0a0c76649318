import { newId } from '../ids.js';
import type { Queryable } from '../store/db.js';
import type { ApplyResult, ChargerEvent } from './events.js';

/**
 * Applies a batch of messages in one statement: dynamo_apply_batch()
 * (src/store/functions/ingest.sql) runs their events in order inside the
 * database and returns one result per event, grouped by message. One round
 * trip per batch is what makes group commit cheap.
 *
 * The batch travels as one JSON text (one serialisation here, one parse there). If the database
 * cannot parse the text as a whole (it says so: "dynamo_apply batch unparsed"), it is sent again as one
 * text per message through dynamo_apply(text[]), which parses each alone, so the message it cannot
 * take fails as itself (see failedMessageOf) rather than as the whole batch.
 */
export interface AppliedBatch {
  /** One result per event, grouped by message. */
  results: ApplyResult[][];
  /** Fleet events the batch wrote to the log (migration 0008): its readers are woken after the commit when there are any. */
  eventsWritten: number;
}

type AppliedRow = { results: ApplyResult[][]; events: number };

// The function runs in a subquery (OFFSET 0 keeps it one), so the count of events it wrote is read after it.
const APPLY_BATCH = 'SELECT a.results, dynamo_events_written() AS events FROM (SELECT dynamo_apply_batch($1::text) AS results OFFSET 0) a';
const APPLY_EACH = 'SELECT a.results, dynamo_events_written() AS events FROM (SELECT dynamo_apply($1::text[]) AS results OFFSET 0) a';

export async function applyBatch(db: Queryable, messages: readonly (readonly ChargerEvent[])[]): Promise<AppliedBatch> {
  // Object.assign, not `{ ...e, eventId }`: a spread clone given one more property took 2 µs on
  // Node 20 against 0.5 µs (docs/benchmarks.md "Where a message's time goes").
  const withIds = messages.map((events) => events.map((e) => (e.type === 'StatusChanged' || e.type === 'ErrorRaised' ? Object.assign({}, e, { eventId: newId('evt') }) : e)));
  let row: AppliedRow | undefined;
  try {
    [row] = await db.query<AppliedRow>(APPLY_BATCH, [JSON.stringify(withIds)], { prepareAs: 'dynamo_apply_batch' });
  } catch (err) {
    // Only a batch the database could not parse as a whole is sent again; any other failure (a
    // lost connection after a commit, a timeout) must not apply the batch a second time.
    if (!isUnparsedBatch(err)) throw err;
    const texts = withIds.map((events) => JSON.stringify(events));
    [row] = await db.query<AppliedRow>(APPLY_EACH, [texts]);
  }
  const results = row?.results ?? [];
  const complete = results.length === messages.length && results.every((r, i) => r.length === messages[i]!.length);
  if (!complete) throw new Error(`dynamo_apply returned results that do not match the ${messages.length} messages sent`);
  return { results, eventsWritten: row?.events ?? 0 };
}

const FAILED_MESSAGE = /^dynamo_apply message (\d+)$/;

/**
 * A deadlock or serialization failure: the database rolled the batch back through no fault of its
 * messages (with several commit lanes and the last-seen flush writing charger_state, PostgreSQL
 * can pick an ingest batch as a deadlock victim). The batch is run again as it was.
 */
export function isTransientFailure(err: unknown): boolean {
  return (err as { detail?: unknown } | null)?.detail === 'dynamo_apply transient';
}

function isUnparsedBatch(err: unknown): boolean {
  return (err as { detail?: unknown } | null)?.detail === 'dynamo_apply batch unparsed';
}

/** The index of the message dynamo_apply() reported as failing, if the error names one within the batch. */
export function failedMessageOf(err: unknown, batchLength: number): number | undefined {
  const detail = (err as { detail?: unknown } | null)?.detail;
  const m = typeof detail === 'string' ? FAILED_MESSAGE.exec(detail) : null;
  const index = m ? Number(m[1]) : NaN;
  return Number.isInteger(index) && index >= 0 && index < batchLength ? index : undefined;
}
