import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { buildStrip, totals } from '../src/web/src/timeline.js';
import { groupUptime, groupUtilisation } from '../src/web/src/fleet-math.js';
import { featuresOf } from '../src/web/src/api/features.js';
import { openapiDocument } from '../src/api/openapi-document.js';
import { apiTypes, TYPES_FILE } from '../scripts/web-types.mjs';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const min = 60_000;
const at = (m: number) => new Date(T0 + m * min).toISOString();

describe('dashboard: the connectivity strip', () => {
  it('draws online, offline and faulted stretches from connect/disconnect and error events', () => {
    const s = buildStrip({
      from: T0,
      to: T0 + 100 * min,
      events: [
        { type: 'disconnected', timestamp: at(20) }, // online before: the first event says so
        { type: 'connected', timestamp: at(30) },
      ],
      truncated: false,
      onlineNow: true,
      faults: [{ start: T0 + 50 * min, end: T0 + 60 * min }, { start: T0 + 90 * min, end: null }],
    });
    expect(s.map((x) => [x.state, (x.start - T0) / min, (x.end - T0) / min])).toEqual([
      ['online', 0, 20],
      ['offline', 20, 30],
      ['online', 30, 50],
      ['faulted', 50, 60],
      ['online', 60, 90],
      ['faulted', 90, 100],
    ]);
    expect(totals(s, T0, T0 + 100 * min)).toEqual({ online: 70 * min, offline: 10 * min, faulted: 20 * min, unknown: 0 });
  });

  it('uses the current state for a quiet period, never draws before registration, and marks what a truncated page did not load', () => {
    expect(buildStrip({ from: T0, to: T0 + 10 * min, events: [], truncated: false, onlineNow: false, faults: [] })).toEqual([
      { start: T0, end: T0 + 10 * min, state: 'offline' },
    ]);
    expect(buildStrip({ from: T0, to: T0 + 10 * min, registeredAt: T0 + 4 * min, events: [], truncated: false, onlineNow: true, faults: [] })).toEqual([
      { start: T0 + 4 * min, end: T0 + 10 * min, state: 'online' },
    ]);
    const s = buildStrip({ from: T0, to: T0 + 10 * min, events: [{ type: 'connected', timestamp: at(2) }], truncated: true, onlineNow: true, faults: [] });
    expect(s.map((x) => x.state)).toEqual(['offline', 'unknown']);
    // A fault while offline is drawn as offline (the charger could not be faulted and unreachable at once on screen).
    const f = buildStrip({ from: T0, to: T0 + 10 * min, events: [{ type: 'connected', timestamp: at(5) }], truncated: false, onlineNow: true, faults: [{ start: T0, end: null }] });
    expect(f.map((x) => x.state)).toEqual(['offline', 'faulted']);
  });
});

describe('dashboard: fleet figures from per-charger answers', () => {
  it('weights uptime by measured time and utilisation by online time, skipping chargers with nothing measured', () => {
    expect(
      groupUptime([
        { site_id: 's', uptime_percent: 90, downtime_minutes: 10, window_minutes: 100 },
        { site_id: 's', uptime_percent: 100, downtime_minutes: 0, window_minutes: 300 },
        { site_id: 's', uptime_percent: null, downtime_minutes: 0, window_minutes: 0 },
      ]),
    ).toEqual({ percent: 97.5, chargers: 2, downtimeMinutes: 10 });
    expect(groupUptime([]).percent).toBeNull();
    const u = groupUtilisation([
      { buckets: [{ period_start: '2026-03-01T00:00:00Z', charging_minutes: 30, online_minutes: 60 }, { period_start: '2026-03-02T00:00:00Z', charging_minutes: 0, online_minutes: 0 }] },
      { buckets: [{ period_start: '2026-03-01T00:00:00Z', charging_minutes: 0, online_minutes: 60 }, { period_start: '2026-03-02T00:00:00Z', charging_minutes: 0, online_minutes: 0 }] },
    ]);
    expect(u).toEqual({ times: [Date.parse('2026-03-01T00:00:00Z') / 1000, Date.parse('2026-03-02T00:00:00Z') / 1000], percent: [25, null] });
  });
});

describe('dashboard: API types and optional modules', () => {
  it('the committed API types are those generated from this build’s OpenAPI document (run npm run web:types)', async () => {
    const doc = await openapiDocument();
    expect(await readFile(TYPES_FILE, 'utf8')).toBe(await apiTypes(doc));
  });

  it('sees which routes the service offers, so modules for absent routes stay hidden', async () => {
    const f = featuresOf((await openapiDocument()) as never);
    expect(f.has('GET /api/v1/cpo/fleet/summary')).toBe(true);
    expect(f.has('PATCH /api/v1/cpo/chargers/{charge_point_id}/maintenance/{event_id}')).toBe(true);
    expect(f.has('POST /api/v1/cpo/fleet/summary')).toBe(false);
    expect(f.has('GET /api/v1/cpo/no-such-route')).toBe(false);
  });
});
