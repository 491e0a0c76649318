-- Utilisation by day, week or month reads one running total per bucket boundary, the row of the
-- hour before it, which is 23:00 UTC (src/fleet/utilisation.ts). This index holds only those rows,
-- with the totals, so a charger's boundaries over a period are one short range scan instead of a
-- probe each (issue #15: 1,000 chargers × 30 days by day). 1 row in 24 of rollup_hours; written
-- by the rollup refresher only, never by ingest.
CREATE INDEX IF NOT EXISTS rollup_hours_day_end ON rollup_hours (charge_point_id, hour) INCLUDE (online_us, charging_us)
  WHERE extract(hour FROM hour AT TIME ZONE 'UTC') = 23;
