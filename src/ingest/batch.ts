import { newId } from '../ids.js';
import type { Queryable } from '../store/db.js';
import type { ApplyResult, ChargerEvent } from './events.js';

/**
 * Applies a batch of events in one statement: dynamo_apply() (migration 0003)
 * runs them in order inside the database and returns one result per event.
 * One round trip per batch is what makes group commit cheap.
 */
export async function applyBatch(db: Queryable, events: readonly ChargerEvent[]): Promise<ApplyResult[]> {
  const rows = events.map((e) => (e.type === 'StatusChanged' || e.type === 'ErrorRaised' ? { ...e, eventId: newId('evt') } : e));
  const [row] = await db.query<{ results: ApplyResult[] }>('SELECT dynamo_apply($1::jsonb) AS results', [JSON.stringify(rows)]);
  const results = row?.results ?? [];
  if (results.length !== events.length) throw new Error(`dynamo_apply returned ${results.length} results for ${events.length} events`);
  return results;
}
