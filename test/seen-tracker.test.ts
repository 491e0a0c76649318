import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { SeenTracker } from '../src/ingest/seen-tracker.js';
import { aCharger } from './support/builders.js';
import { ocppTestbed } from './support/ocpp-testbed.js';
import { dbKind } from './support/database.js';
import { eventually } from './support/history.js';

// Times far ahead of anything the service's own tracker writes, so these rows show this tracker's writes.
const later = (min: number) => Date.UTC(2030, 0, 1, 0, min);

describe(`the last-seen flush (${dbKind})`, () => {
  const bed = ocppTestbed();

  /** A charger connected over OCPP, and the id of its open connection. */
  async function aConnectedCharger(): Promise<{ cp: string; connectionId: number }> {
    const cp = await aCharger(bed.t.api, bed.site);
    await bed.connect(cp);
    // The connection is recorded just after the upgrade, as the gateway's Connected event commits.
    const rows = await eventually(
      () => bed.svc.service.db.query<{ id: string }>('SELECT connection_id::text AS id FROM connections WHERE charge_point_id = $1 AND disconnected_at IS NULL', [cp]),
      (r) => r.length === 1,
    );
    return { cp, connectionId: Number(rows[0]!.id) };
  }

  const lastSeen = async (cp: string) =>
    (await bed.svc.service.db.query<{ seen: Date | null; heard: Date | null }>(
      `SELECT s.last_seen AS seen, c.last_heard_at AS heard FROM charger_state s
         JOIN connections c ON c.charge_point_id = s.charge_point_id AND c.disconnected_at IS NULL
        WHERE s.charge_point_id = $1`,
      [cp],
    ))[0];

  it('writes each charger’s last-seen time and its connection’s last-heard time; times only move forward', async () => {
    const a = await aConnectedCharger();
    const tracker = new SeenTracker(bed.svc.service.db, pino({ level: 'silent' }));
    tracker.seen(a, later(5));
    await tracker.flush();
    expect(await lastSeen(a.cp)).toEqual({ seen: new Date(later(5)), heard: new Date(later(5)) });
    tracker.seen(a, later(1));
    await tracker.flush();
    expect(await lastSeen(a.cp)).toEqual({ seen: new Date(later(5)), heard: new Date(later(5)) });
  });

  it.skipIf(dbKind !== 'postgres')(
    'does not wait for rows another transaction holds: writes the others at once, and the held ones at the next flush',
    async () => {
      const a = await aConnectedCharger();
      const b = await aConnectedCharger();
      const c = await aConnectedCharger();
      const tracker = new SeenTracker(bed.svc.service.db, pino({ level: 'silent' }));
      // An ingest batch's transaction holding one charger's state row and another's connection row.
      await bed.svc.service.db.transaction(async (tx) => {
        await tx.query('SELECT 1 FROM charger_state WHERE charge_point_id = $1 FOR UPDATE', [a.cp]);
        await tx.query('SELECT 1 FROM connections WHERE connection_id = $1 FOR UPDATE', [b.connectionId]);
        for (const x of [a, b, c]) tracker.seen(x, later(10));
        const firstFlush = await Promise.race([tracker.flush().then(() => 'done' as const), new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 3000))]);
        expect(firstFlush).toBe('done');
        expect(await lastSeen(c.cp)).toEqual({ seen: new Date(later(10)), heard: new Date(later(10)) });
      });
      // The held rows were left alone, the rest of each written.
      expect((await lastSeen(a.cp))!.seen).not.toEqual(new Date(later(10)));
      expect((await lastSeen(a.cp))!.heard).toEqual(new Date(later(10)));
      expect((await lastSeen(b.cp))!.seen).toEqual(new Date(later(10)));
      expect((await lastSeen(b.cp))!.heard).not.toEqual(new Date(later(10)));
      await tracker.flush();
      for (const x of [a, b, c]) expect(await lastSeen(x.cp)).toEqual({ seen: new Date(later(10)), heard: new Date(later(10)) });
    },
  );
});
