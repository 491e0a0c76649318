-- The raw OCPP message log (docs/api.md, "Message log"): every frame in and out, per charger.
-- Partitioned by day on the time the frame was received or sent, so retention drops whole
-- partitions (no DELETE, no vacuum debt). Partitions are made by dynamo_message_log_partition()
-- (src/store/functions/message-log.sql) before a day's first write; there is no default
-- partition, so a new day's partition can always be attached. The same on PGlite.
-- seq orders the log (keyset pagination, newest first): one writer per node assigns it in
-- commit order, and a charger is held by one node at a time.
CREATE SEQUENCE ocpp_messages_seq;
CREATE TABLE ocpp_messages (
  seq             bigint NOT NULL DEFAULT nextval('ocpp_messages_seq'),
  at              timestamptz NOT NULL,
  tenant_id       text NOT NULL,
  charge_point_id text NOT NULL,
  node_id         text NOT NULL,
  direction       text NOT NULL CHECK (direction IN ('in', 'out')),
  message_type    text NOT NULL CHECK (message_type IN ('CALL', 'CALLRESULT', 'CALLERROR', 'MALFORMED')),
  message_id      text,
  action          text,
  payload         jsonb,
  raw             text,
  note            text
) PARTITION BY RANGE (at);
CREATE INDEX ocpp_messages_charger ON ocpp_messages (charge_point_id, seq DESC);
