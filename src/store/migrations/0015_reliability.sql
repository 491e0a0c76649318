-- Reliability and compliance reports (docs/reliability.md). Outages are not stored: they are
-- derived from connections and connector_status_intervals, so late (offline-queued) messages
-- move them. What an operator says about an outage is stored here, keyed by the outage's port
-- and start, and never deleted: a cleared exclusion keeps its history in the audit table, and
-- caps are applied by the calculators, not by removing rows.

CREATE TABLE outage_exclusions (
  tenant_id         text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  charge_point_id   text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  connector_id      integer NOT NULL,
  outage_started_at timestamptz NOT NULL,
  -- An EV-ChART excluded-outage reason (src/fleet/reliability/regimes.ts), or 'not_excluded' to
  -- overrule the scheduled-maintenance pre-fill.
  reason            text NOT NULL,
  notes             text,
  set_by_key_id     text NOT NULL,
  set_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (charge_point_id, connector_id, outage_started_at)
);

-- Append-only: every set and clear, with what it replaced and who did it.
CREATE TABLE outage_exclusion_audit (
  audit_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id         text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  charge_point_id   text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  connector_id      integer NOT NULL,
  outage_started_at timestamptz NOT NULL,
  action            text NOT NULL CHECK (action IN ('set', 'cleared')),
  reason            text,
  notes             text,
  previous_reason   text,
  previous_notes    text,
  actor_key_id      text NOT NULL,
  at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outage_exclusion_audit_outage ON outage_exclusion_audit (charge_point_id, connector_id, outage_started_at, audit_id);

-- What the regimes need to know about a charger that OCPP does not tell: its rated power
-- (UK PCPR counts rapid charge points, 50 kW and above).
CREATE TABLE charger_reliability_settings (
  charge_point_id text PRIMARY KEY REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  rated_power_kw  double precision CHECK (rated_power_kw IS NULL OR rated_power_kw > 0),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Keys created with every scope (the default) keep every scope: they gain the new ones.
UPDATE api_keys SET scopes = scopes || ARRAY['read:reliability', 'write:reliability']
 WHERE scopes @> ARRAY['read:charge_points', 'write:charge_points', 'read:sites', 'write:sites',
                       'read:maintenance', 'write:maintenance', 'write:webhooks',
                       'read:events', 'read:alerts', 'write:alerts'];
