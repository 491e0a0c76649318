-- Maintenance records and the indexes the fleet dashboard queries need
-- (docs/metrics.md): down and charging periods are rare among all status
-- intervals, so partial indexes keep uptime and utilisation to the rows that matter.

CREATE TABLE maintenance_events (
  event_id        text PRIMARY KEY,
  charge_point_id text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  type            text NOT NULL CHECK (type IN ('scheduled', 'reactive', 'inspection')),
  description     text NOT NULL,
  scheduled_at    timestamptz NOT NULL,
  completed_at    timestamptz,
  technician      text,
  notes           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (completed_at IS NULL OR completed_at >= scheduled_at)
);
CREATE INDEX maintenance_events_charger ON maintenance_events (charge_point_id, scheduled_at);

CREATE INDEX connector_status_intervals_down ON connector_status_intervals (charge_point_id, connector_id, started_at)
  WHERE status IN ('Faulted', 'Unavailable');
CREATE INDEX connector_status_intervals_charging ON connector_status_intervals (charge_point_id, started_at)
  WHERE status = 'Charging';
CREATE INDEX error_events_code ON error_events (error_code, occurred_at DESC);
CREATE INDEX sessions_open ON sessions (charge_point_id) WHERE stopped_at IS NULL;
CREATE INDEX sessions_stopped ON sessions (stopped_at);
CREATE INDEX meter_samples_energy ON meter_samples (session_id, sampled_at DESC)
  WHERE measurand = 'Energy.Active.Import.Register' AND phase IS NULL;
