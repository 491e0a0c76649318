import type { Queryable } from '../store/db.js';
import { findChargersForAdmission, type ChargerAdmission } from '../store/chargers.js';
import { Coalesced } from '../coalesced.js';

/** The most identities one lookup statement carries. */
const MAX_BATCH = 1_000;

type Waiter = { resolve: (c: ChargerAdmission | undefined) => void; reject: (err: unknown) => void };

/**
 * Looks chargers up for admission one statement at a time, each carrying every identity that
 * arrived while the previous one ran. Alone, a connection is looked up at once; in a reconnect
 * storm (every charger of a node back within seconds) thousands of lookups become a few dozen
 * statements on one pool connection, instead of one each competing with ingest for the pool: at
 * 19,000 chargers they waited past the pool's connect timeout and half the storm was refused
 * with 503 (docs/benchmarks.md, "The connection storm at 19,000 chargers"). Nothing is cached:
 * each answer is read after the connection asked, so a deleted charger or a new password applies
 * to the next connection at once.
 */
export class AdmissionLookup {
  private waiting = new Map<string, Waiter[]>();
  // One run at a time; asked again meanwhile, it runs once more (coalesced.ts).
  private readonly drainer = new Coalesced(() => this.drain(), () => {});

  constructor(private readonly db: Queryable) {}

  find(id: string): Promise<ChargerAdmission | undefined> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(id);
      if (list) list.push({ resolve, reject });
      else this.waiting.set(id, [{ resolve, reject }]);
      this.drainer.run();
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.size > 0) {
      const batch = new Map<string, Waiter[]>();
      for (const [id, list] of this.waiting) {
        if (batch.size >= MAX_BATCH) break;
        batch.set(id, list);
        this.waiting.delete(id);
      }
      try {
        const byId = new Map((await findChargersForAdmission(this.db, [...batch.keys()])).map((r) => [r.charge_point_id, r]));
        for (const [id, list] of batch) for (const w of list) w.resolve(byId.get(id));
      } catch (err) {
        for (const list of batch.values()) for (const w of list) w.reject(err);
      }
    }
  }
}
