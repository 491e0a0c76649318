-- The fleet queries compute directly only what lies after the rollup watermark (src/fleet/uptime.ts):
-- the connections and down intervals that end after it, for all of a fleet's chargers at once. These
-- keys find them by one range scan of recent ends instead of walking every charger's history
-- (issue #15: uptime of 10,000 chargers × 30 days, 475 → 377 ms with the two). Connections and
-- down intervals are written rarely (a connect, a disconnect, a fault), so ingest pays little.
CREATE INDEX IF NOT EXISTS connections_end ON connections ((coalesce(disconnected_at, 'infinity'::timestamptz)));
CREATE INDEX IF NOT EXISTS connector_status_intervals_down_end ON connector_status_intervals ((coalesce(ended_at, 'infinity'::timestamptz)))
  WHERE status IN ('Faulted', 'Unavailable');
