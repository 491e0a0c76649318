import { describe, expect, it } from 'vitest';
import { transactionRetried, type Db, type Queryable } from '../src/store/db.js';

/** A database whose transactions fail with the given errors, in turn, and then run. */
function aFailingDb(failures: unknown[]): Db & { runs: number } {
  const db = {
    kind: 'postgres' as const,
    runs: 0,
    query: async () => [],
    exec: async () => {},
    close: async () => {},
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      db.runs++;
      const failure = failures.shift();
      if (failure) throw failure;
      return fn({ query: async () => [] });
    },
  };
  return db;
}

const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });

describe('transactionRetried: a transaction PostgreSQL rolled back through no fault of its own is run again', () => {
  it('runs a deadlock victim again and returns what the run that commits returns', async () => {
    const db = aFailingDb([deadlock, Object.assign(new Error('could not serialize access'), { code: '40001' })]);
    await expect(transactionRetried(db, async () => 'done')).resolves.toBe('done');
    expect(db.runs).toBe(3);
  });

  it('gives up after the attempts allowed, with the last error', async () => {
    const db = aFailingDb([deadlock, deadlock, deadlock]);
    await expect(transactionRetried(db, async () => 'done')).rejects.toBe(deadlock);
    expect(db.runs).toBe(3);
  });

  it('does not run again on any other error', async () => {
    const unique = Object.assign(new Error('duplicate key'), { code: '23505' });
    const db = aFailingDb([unique]);
    await expect(transactionRetried(db, async () => 'done')).rejects.toBe(unique);
    expect(db.runs).toBe(1);
  });
});
