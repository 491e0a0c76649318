-- What chargers report over OCPP. Event tables are append-only; interval tables
-- are split, never rewritten wholesale, so late (offline-queued) messages land
-- at their own time; *_current tables hold the live view.

-- Each process holds a lease; a node whose lease lapses is presumed dead and the
-- connections it left open are closed at its last lease time (DESIGN.md §4).
CREATE TABLE nodes (
  node_id    text PRIMARY KEY,
  hostname   text NOT NULL,
  started_at timestamptz NOT NULL,
  lease_at   timestamptz NOT NULL,
  stopped_at timestamptz
);

-- One row per accepted OCPP connection: the online interval and, through its two
-- ends, the connected/disconnected events of the connectivity timeline.
CREATE TABLE connections (
  connection_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  charge_point_id   text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  node_id           text NOT NULL,
  ocpp_version      text NOT NULL,
  remote_address    text,
  connected_at      timestamptz NOT NULL,
  last_heard_at     timestamptz NOT NULL,
  disconnected_at   timestamptz,
  disconnect_reason text,
  CHECK (disconnected_at IS NULL OR disconnected_at >= connected_at)
);
CREATE INDEX connections_charger_time ON connections (charge_point_id, connected_at);
CREATE INDEX connections_open ON connections (node_id) WHERE disconnected_at IS NULL;
CREATE UNIQUE INDEX connections_one_open_per_charger ON connections (charge_point_id) WHERE disconnected_at IS NULL;

-- Live state per charger, written by ingest (boot data, liveness bookkeeping).
CREATE TABLE charger_state (
  charge_point_id   text PRIMARY KEY REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  ocpp_version      text,
  vendor            text,
  model             text,
  serial_number     text,
  box_serial_number text,
  firmware_version  text,
  iccid             text,
  imsi              text,
  meter_type        text,
  meter_serial      text,
  booted_at         timestamptz,
  firmware_status   text,
  diagnostics_status text,
  last_heartbeat    timestamptz,
  last_seen         timestamptz
);

CREATE TABLE connector_status_events (
  status_event_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  charge_point_id   text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  connector_id      integer NOT NULL,
  evse_id           integer,
  status            text NOT NULL,
  error_code        text,
  info              text,
  vendor_id         text,
  vendor_error_code text,
  charger_time      timestamptz,
  received_at       timestamptz NOT NULL,
  effective_at      timestamptz NOT NULL
);
CREATE INDEX connector_status_events_charger ON connector_status_events (charge_point_id, effective_at);

-- [started_at, ended_at) per connector; ended_at NULL for the current status.
CREATE TABLE connector_status_intervals (
  charge_point_id text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  connector_id    integer NOT NULL,
  status          text NOT NULL,
  started_at      timestamptz NOT NULL,
  ended_at        timestamptz,
  PRIMARY KEY (charge_point_id, connector_id, started_at),
  CHECK (ended_at IS NULL OR ended_at > started_at)
);
CREATE INDEX connector_status_intervals_time ON connector_status_intervals (started_at, ended_at);

CREATE TABLE connectors (
  charge_point_id   text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  connector_id      integer NOT NULL,
  evse_id           integer,
  connector_type    text,
  status            text NOT NULL,
  error_code        text,
  status_at         timestamptz NOT NULL,
  PRIMARY KEY (charge_point_id, connector_id)
);

CREATE TABLE error_events (
  event_id          text PRIMARY KEY,
  charge_point_id   text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  connector_id      integer NOT NULL,
  error_code        text NOT NULL,
  info              text,
  vendor_error_code text,
  status            text,
  occurred_at       timestamptz NOT NULL,
  received_at       timestamptz NOT NULL,
  resolved_at       timestamptz
);
CREATE INDEX error_events_charger_time ON error_events (charge_point_id, occurred_at DESC);
CREATE INDEX error_events_time ON error_events (occurred_at DESC);
CREATE UNIQUE INDEX error_events_one_open ON error_events (charge_point_id, connector_id, error_code) WHERE resolved_at IS NULL;

-- transaction_id is the id the charger knows: ours (1.6, integer) or its own (2.x, string).
CREATE TABLE sessions (
  session_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  charge_point_id text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  transaction_id  text NOT NULL,
  connector_id    integer NOT NULL,
  id_tag          text,
  started_at      timestamptz NOT NULL,
  meter_start_wh  double precision,
  stopped_at      timestamptz,
  meter_stop_wh   double precision,
  stop_reason     text,
  last_meter_wh   double precision,
  last_meter_at   timestamptz,
  received_at     timestamptz NOT NULL,
  UNIQUE (charge_point_id, transaction_id)
);
CREATE INDEX sessions_active ON sessions (charge_point_id, connector_id) WHERE stopped_at IS NULL;
CREATE INDEX sessions_time ON sessions (started_at, stopped_at);
-- A StartTransaction retried after a lost answer is the same start (OCPP 1.6 §4.8 retries).
CREATE UNIQUE INDEX sessions_start_identity ON sessions (charge_point_id, connector_id, id_tag, meter_start_wh, started_at);

CREATE TABLE meter_samples (
  charge_point_id text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  session_id      bigint REFERENCES sessions (session_id) ON DELETE CASCADE,
  connector_id    integer NOT NULL,
  sampled_at      timestamptz NOT NULL,
  measurand       text NOT NULL,
  phase           text,
  value           double precision NOT NULL,
  unit            text NOT NULL,
  context         text
);
CREATE INDEX meter_samples_session ON meter_samples (session_id, sampled_at);
CREATE INDEX meter_samples_charger ON meter_samples (charge_point_id, sampled_at);

-- Everything else a charger tells us (Authorize, DataTransfer, firmware and
-- diagnostics status, transactions we did not know, lenient-mode violations).
CREATE TABLE charger_messages (
  message_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  charge_point_id text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  kind            text NOT NULL,
  payload         jsonb NOT NULL,
  occurred_at     timestamptz NOT NULL,
  received_at     timestamptz NOT NULL
);
CREATE INDEX charger_messages_charger ON charger_messages (charge_point_id, kind, occurred_at);

-- OCPP 1.6 transactionIds are integers the CSMS hands out (StartTransaction.conf).
CREATE SEQUENCE ocpp16_transaction_ids;
