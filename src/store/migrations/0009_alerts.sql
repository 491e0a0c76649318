-- Alert rules and the alerts they open (docs/alerts.md). A rule watches one condition over its
-- scope (the tenant, a site or a charger) and fires only once the condition has held for its delay.
CREATE TABLE alert_rules (
  rule_id            text PRIMARY KEY,
  tenant_id          text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  name               text NOT NULL,
  kind               text NOT NULL CHECK (kind IN ('charger_offline', 'faulted', 'error_code', 'no_heartbeat', 'uptime_below')),
  site_id            text,
  charge_point_id    text,
  delay_seconds      integer NOT NULL CHECK (delay_seconds >= 0),
  per_connector      boolean NOT NULL DEFAULT false,
  error_code         text,
  heartbeat_multiple double precision,
  threshold_percent  double precision,
  window_hours       integer,
  enabled            boolean NOT NULL DEFAULT true,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rules_tenant ON alert_rules (tenant_id, created_at);

-- An alert opens once per rule and subject (a charger, or a connector of it) and resolves once.
-- The rule's name and kind are copied so an alert still reads after its rule is deleted.
CREATE TABLE alerts (
  alert_id        text PRIMARY KEY,
  rule_id         text REFERENCES alert_rules (rule_id) ON DELETE SET NULL,
  rule_name       text NOT NULL,
  kind            text NOT NULL,
  tenant_id       text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  charge_point_id text NOT NULL,
  site_id         text,
  connector_id    integer,
  condition_since timestamptz NOT NULL,
  opened_at       timestamptz NOT NULL DEFAULT now(),
  resolved_at     timestamptz,
  details         jsonb NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule_id, charge_point_id, coalesce(connector_id, -1)) WHERE resolved_at IS NULL;
CREATE INDEX alerts_tenant_time ON alerts (tenant_id, opened_at DESC);

-- Work that one node of a cluster does at a time (the alert evaluator): a lease that lapses when
-- its holder dies, so another node takes over.
CREATE TABLE singleton_leases (
  name        text PRIMARY KEY,
  node_id     text NOT NULL,
  lease_until timestamptz NOT NULL
);
