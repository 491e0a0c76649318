-- Webhook endpoints and their deliveries (docs/alerts.md "Webhooks"). Each endpoint reads the
-- durable event log (migration 0008) from its own cursor, so deliveries survive restarts and
-- node changes. One node at a time delivers for an endpoint: the one holding its lease
-- (lease_owner until lease_until), a column renewed in short statements, never a row lock held
-- across an HTTP call (a long transaction would hold back the log's reading horizon).
CREATE TABLE webhook_endpoints (
  endpoint_id     text PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  url             text NOT NULL,
  -- Event types delivered; '{*}' = every type.
  events          text[] NOT NULL,
  description     text,
  -- The signing secret: 'aes256gcm:' + base64(iv | tag | ciphertext) under DYNAMO_SECRETS_KEY,
  -- or 'plain:' + the secret when no key is configured (src/security/secret-box.ts).
  secret          text NOT NULL,
  -- active, paused (enabled = false), disabled (by a 410 or sustained failure).
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'disabled')),
  disabled_reason text,
  disabled_at     timestamptz,
  -- The last event id handled: deliveries continue after it.
  cursor          bigint NOT NULL,
  -- The first failed attempt of the current run of failures; NULL while deliveries succeed.
  failing_since   timestamptz,
  lease_owner     text,
  lease_until     timestamptz,
  -- Bumped on every change of url, events, secret or status, so a delivering node sees it.
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, created_at, endpoint_id);

-- One row per event sent to an endpoint (and per test ping), with its attempts.
CREATE TABLE webhook_deliveries (
  delivery_id      text PRIMARY KEY,
  endpoint_id      text NOT NULL REFERENCES webhook_endpoints (endpoint_id) ON DELETE CASCADE,
  -- The event's id in fleet_events; NULL for a test ping.
  event_id         bigint,
  event            text NOT NULL,
  -- pending (retrying), delivered, failed (given up: the endpoint was disabled).
  status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL,
  last_status_code integer,
  last_error       text,
  last_latency_ms  integer,
  -- The latest attempts, newest last: [{at, status_code, latency_ms, error}], at most 10.
  attempt_log      jsonb NOT NULL DEFAULT '[]',
  next_attempt_at  timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (endpoint_id, created_at DESC, delivery_id DESC);
CREATE INDEX webhook_deliveries_age ON webhook_deliveries (created_at);
