-- Remote commands (docs/commands.md): every command an operator, a bulk job or a maintenance
-- event sends to a charger, recorded from the moment it is accepted until the charger's answer.
-- status 'Pending' while it waits in the charger's queue or for the answer; then one of
-- Accepted, Rejected, NotSupported, Timeout, Error, Offline.

CREATE TABLE command_bulks (
  bulk_id      text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  command      text NOT NULL,
  parameters   jsonb NOT NULL,
  total        integer NOT NULL,
  requested_by text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
CREATE INDEX command_bulks_tenant ON command_bulks (tenant_id, created_at DESC);

-- No foreign key to chargers: a command outlives the charger it was sent to (audit), and
-- tenant_id keeps it visible only to the tenant that sent it.
CREATE TABLE commands (
  command_id      text PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  charge_point_id text NOT NULL,
  command         text NOT NULL,
  parameters      jsonb NOT NULL,
  status          text NOT NULL CHECK (status IN ('Pending', 'Accepted', 'Rejected', 'NotSupported', 'Timeout', 'Error', 'Offline')),
  ocpp_version    text,
  ocpp_action     text,
  response        jsonb,
  error           jsonb,
  round_trip_ms   integer,
  timeout_ms      integer NOT NULL,
  requested_by    text NOT NULL,
  bulk_id         text REFERENCES command_bulks (bulk_id) ON DELETE CASCADE,
  node_id         text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  completed_at    timestamptz
);
CREATE INDEX commands_tenant_time ON commands (tenant_id, created_at DESC, command_id DESC);
CREATE INDEX commands_charger_time ON commands (charge_point_id, created_at DESC);
CREATE INDEX commands_bulk ON commands (bulk_id) WHERE bulk_id IS NOT NULL;
CREATE INDEX commands_pending ON commands (node_id) WHERE status = 'Pending';

-- OCPP 2.x remoteStartId (F01) and requestId (L01 firmware, N01 logs): integers the CSMS hands out.
CREATE SEQUENCE command_request_ids;

-- Maintenance with take_offline: the charger is made Inoperative when the window starts and
-- Operative when it is completed; the two commands are linked here.
ALTER TABLE maintenance_events ADD COLUMN take_offline boolean NOT NULL DEFAULT false;
ALTER TABLE maintenance_events ADD COLUMN offline_command_id text;
ALTER TABLE maintenance_events ADD COLUMN online_command_id text;
CREATE INDEX maintenance_events_to_start ON maintenance_events (scheduled_at)
  WHERE take_offline AND offline_command_id IS NULL AND completed_at IS NULL;

-- The raw OCPP message log can be switched off per tenant (docs/api.md, message log).
ALTER TABLE tenants ADD COLUMN message_log boolean NOT NULL DEFAULT true;
