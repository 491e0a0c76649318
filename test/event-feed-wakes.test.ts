import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { EventFeed, EventFeedBehindError } from '../src/events/event-feed.js';
import { WakeNotifier } from '../src/events/wake-notifier.js';
import type { Queryable } from '../src/store/db.js';

const silent = pino({ level: 'silent' });

/** A database that answers the feed's two statements from a script and records what it was asked. */
function aScriptedLog(opts: { head: () => string; failHead?: () => boolean }) {
  const asked: string[] = [];
  const db: Queryable = {
    async query<R>(sql: string): Promise<R[]> {
      if (sql.includes('AS head')) {
        asked.push('head');
        if (opts.failHead?.()) throw new Error('connection reset');
        return [{ head: opts.head() }] as R[];
      }
      if (sql.includes('pg_notify')) {
        asked.push('notify');
        return [] as R[];
      }
      asked.push('read');
      // No events readable, nothing held back: the page query's one row of a LEFT JOIN that found nothing.
      return [{ held: false, id: null }] as R[];
    },
  };
  return { db, asked };
}

describe('the event feed without listeners, and the wake-ups it sends', () => {
  it('reads nothing while nobody listens; the first listener waits for the head, then reads follow each wake', async () => {
    let head = '100';
    const { db, asked } = aScriptedLog({ head: () => head });
    const feed = new EventFeed(db, silent, new Registry(), { pollIntervalMs: 60_000, pageSize: 10 });
    await feed.start();
    asked.length = 0;
    head = '500';
    for (let i = 0; i < 5; i++) feed.wake();
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toEqual([]);

    const sub = feed.subscribe({ tenantId: 't' }, () => {});
    await feed.ready();
    // Brought to the head once, then the page after it read for the listener.
    expect(asked).toEqual(['head', 'read']);
    expect(feed.position).toBe('500');
    asked.length = 0;
    feed.wake();
    await feed.ready();
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toEqual(['read']);
    sub.close();
    await feed.stop();
  });

  it('refuses a listener when the head cannot be read, rather than let it start from a stale position; the next one gets it', async () => {
    let fail = true;
    const { db } = aScriptedLog({ head: () => '900', failHead: () => fail });
    const feed = new EventFeed(db, silent, new Registry(), { pollIntervalMs: 60_000, pageSize: 10 });
    fail = false;
    await feed.start();
    fail = true;
    feed.wake(); // skipped: nobody listens
    const sub = feed.subscribe({ tenantId: 't' }, () => {});
    await expect(feed.ready()).rejects.toBeInstanceOf(EventFeedBehindError);
    fail = false;
    await feed.ready();
    expect(feed.position).toBe('900');
    sub.close();
    await feed.stop();
  });

  it('sends other nodes one NOTIFY per interval however many commits ask, stops without waiting it out, and sends the one still owed', async () => {
    const { db, asked } = aScriptedLog({ head: () => '0' });
    const notifier = new WakeNotifier(db, silent, 5_000);
    for (let i = 0; i < 20; i++) notifier.wake();
    await new Promise((r) => setTimeout(r, 50));
    // The first at once; the other nineteen owed as one, after the interval.
    expect(asked).toEqual(['notify']);
    const stopping = performance.now();
    await notifier.stop();
    expect(performance.now() - stopping).toBeLessThan(1_000);
    expect(asked).toEqual(['notify', 'notify']);
  });
});
