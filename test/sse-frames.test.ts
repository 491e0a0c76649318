import { describe, expect, it } from 'vitest';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { sseFrames } from '../src/api/sse-frames.js';
import type { FleetEvent } from '../src/store/fleet-events.js';

const anEvent = (id: number, status = 'Available'): FleetEvent => ({
  id: String(id),
  event: 'connector.status_changed',
  created_at: new Date('2026-12-02T04:00:00Z'),
  tenant_id: 'ten_1',
  envelope: JSON.stringify({ id: String(id), event: 'connector.status_changed', created_at: '2026-12-02T04:00:00Z', tenant_id: 'ten_1', data: { status } }),
});

const parse = (chunk: Buffer) => {
  const got: EventSourceMessage[] = [];
  const p = createParser({ onEvent: (m) => got.push(m) });
  p.feed(chunk.toString('utf8'));
  return got.map((m) => ({ id: m.id, event: m.event, data: JSON.parse(m.data) as unknown }));
};

describe('stream frames', () => {
  it('frames each event of a batch as one SSE message, in order', () => {
    const batch = [anEvent(1), anEvent(2, 'Charging'), anEvent(3, 'Faulted')];
    expect(parse(sseFrames(batch))).toEqual(batch.map((e) => ({ id: e.id, event: e.event, data: JSON.parse(e.envelope) })));
  });

  it('shares the chunk of one batch between clients, never between two batches that only start alike', () => {
    const [a, b, c, d] = [anEvent(10), anEvent(11), anEvent(12), anEvent(13)];
    const first = sseFrames([a!, b!, c!]);
    // Another client's batch with the same events (another array): the same chunk.
    expect(sseFrames([a!, b!, c!])).toBe(first);
    // Same first event, same length, other events (a client with another filter): its own chunk.
    const other = sseFrames([a!, b!, d!]);
    expect(other).not.toBe(first);
    expect(parse(other).map((m) => m.id)).toEqual(['10', '11', '13']);
    expect(parse(sseFrames([a!, b!])).map((m) => m.id)).toEqual(['10', '11']);
  });
});
