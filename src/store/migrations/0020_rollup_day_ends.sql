-- Utilisation from the rollups (src/fleet/utilisation.ts, issue #15: 1,000 chargers × 30 days by
-- day). Written by the rollup refresher and by status changes to Charging only.

-- A bucket boundary's running total is the row of the hour before it, which for day, week and month
-- is 23:00 UTC: this index holds only those rows, with the totals, so a charger's boundaries over a
-- period are one short range scan instead of a probe each. 1 row in 24 of rollup_hours.
CREATE INDEX IF NOT EXISTS rollup_hours_day_end ON rollup_hours (charge_point_id, hour) INCLUDE (online_us, charging_us)
  WHERE extract(hour FROM hour AT TIME ZONE 'UTC') = 23;

-- The part of a period after the rollup watermark reads a charger's Charging intervals that end
-- after it; without this it walks all of the charger's recent intervals and drops the others.
CREATE INDEX IF NOT EXISTS connector_status_intervals_charging_end
  ON connector_status_intervals (charge_point_id, (coalesce(ended_at, 'infinity'::timestamptz))) WHERE status = 'Charging';

-- The day-end index is read index-only, which needs the rows' pages marked all-visible by a vacuum.
-- rollup_hours only grows (the refresher appends each sealed hour); by default autovacuum would visit
-- it after 20 % more rows (days of history at 10,000 chargers), so recent day ends would need a heap
-- fetch each. 1 % (about 7 hours' rows at 10,000 chargers with a month kept) keeps them index-only.
ALTER TABLE rollup_hours SET (autovacuum_vacuum_insert_scale_factor = 0.01);
