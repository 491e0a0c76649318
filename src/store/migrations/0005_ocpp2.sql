-- OCPP 2.0.1 / 2.1: errors come from NotifyEvent problems as well as statuses, and
-- TransactionEvents carry a seqNo that makes retransmissions recognisable.

ALTER TABLE error_events ADD COLUMN source text NOT NULL DEFAULT 'status';
ALTER TABLE error_events ADD COLUMN component_variable text;

-- OCPP Security Profile 3: the charger proves its identity with a client certificate.
ALTER TABLE chargers ADD COLUMN client_cert_required boolean NOT NULL DEFAULT false;

CREATE TABLE transaction_event_seq (
  charge_point_id text NOT NULL REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  transaction_id  text NOT NULL,
  seq_no          integer NOT NULL,
  received_at     timestamptz NOT NULL,
  PRIMARY KEY (charge_point_id, transaction_id, seq_no)
);
