-- The charger's one status (the fleet API's value, kept by dynamo_sync_charger_status) moves from
-- charger_state to chargers, beside the tenant and site that scope it: the summary counts a
-- fleet's statuses, and the chargers list filters by status, reading one table instead of joining
-- every charger of the tenant to its state (issue #15; docs/benchmarks.md). charger_state keeps
-- what the charger says about itself (boot details, heartbeats). Safe to apply twice.
ALTER TABLE chargers ADD COLUMN IF NOT EXISTS reported_status text;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = 'charger_state' AND column_name = 'reported_status') THEN
    UPDATE chargers c SET reported_status = s.reported_status
      FROM charger_state s
     WHERE s.charge_point_id = c.charge_point_id AND s.reported_status IS NOT NULL;
    ALTER TABLE charger_state DROP COLUMN reported_status;
  END IF;
END $$;
-- What the planner knows of the status as the fleet queries read it (NULL is Offline), so that a
-- status filter matching most of a fleet is estimated as such.
CREATE STATISTICS IF NOT EXISTS chargers_fleet_status ON (coalesce(reported_status, 'Offline')) FROM chargers;
