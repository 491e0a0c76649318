-- Hourly rollups of the uptime and utilisation figures (docs/metrics.md "Rollups"). One row per
-- charger and UTC hour, every hour from the charger's first data to its rollup watermark; the
-- figures are running totals from that first hour, so any run of whole hours is the difference of
-- two rows. The hour's own sets are kept beside them for the partial hours at a period's edges.
-- The functions that fill and repair these tables are in src/store/functions/rollups.sql.

-- Per charger: rows exist for every hour in [first_hour, rolled_until). NULL first_hour: to be
-- (re)built from scratch.
CREATE TABLE rollup_chargers (
  charge_point_id text PRIMARY KEY REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  first_hour      timestamptz,
  rolled_until    timestamptz
);

-- *_us: microseconds from first_hour up to the end of this hour (running totals):
--   online: connected; down: the charger was down (docs/metrics.md); excluded: down inside a
--   completed maintenance window; charging: a connector Charging while online.
-- *_mr: the same sets within this hour, NULL when empty.
CREATE TABLE rollup_hours (
  hour            timestamptz NOT NULL,
  charge_point_id text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  online_us       bigint NOT NULL,
  down_us         bigint NOT NULL,
  excluded_us     bigint NOT NULL,
  charging_us     bigint NOT NULL,
  online_mr       tstzmultirange,
  down_mr         tstzmultirange,
  excluded_mr     tstzmultirange,
  charging_mr     tstzmultirange,
  PRIMARY KEY (hour, charge_point_id)
);
CREATE INDEX rollup_hours_charger ON rollup_hours (charge_point_id, hour);

-- A change to history at or before `since` that a rollup row may already cover (a late, replayed
-- or back-dated message, a maintenance edit, a new connector). Written by triggers; read by every
-- rollup query (rows from `since` on are not used) and applied by the refresher.
CREATE TABLE rollup_dirty (
  dirty_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- No foreign key: a charger being deleted cascades into the tables whose triggers write here.
  charge_point_id text NOT NULL,
  since           timestamptz NOT NULL
);
CREATE INDEX rollup_dirty_charger ON rollup_dirty (charge_point_id, since);

-- Intervals still open or ending after a point: the part of a period after the rollup watermark is
-- computed from these directly, without reading the charger's whole history.
CREATE INDEX connections_charger_end ON connections (charge_point_id, (coalesce(disconnected_at, 'infinity'::timestamptz)));
CREATE INDEX connector_status_intervals_charger_end ON connector_status_intervals (charge_point_id, (coalesce(ended_at, 'infinity'::timestamptz)));
