-- The durable fleet event log (docs/events.md): written by the transaction that makes the change,
-- read by the live stream, webhook workers and alert bookkeeping.
--
-- id orders the log: the writing transaction's id (xid8) shifted left 20 bits, plus the event's
-- ordinal within that transaction. A reader takes only events of transactions older than every
-- transaction still running (pg_snapshot_xmin), so no event can later appear below a position
-- already read: a cursor over id never skips one (a plain sequence could, as transactions commit
-- out of sequence order).
CREATE TABLE fleet_events (
  id              bigint PRIMARY KEY,
  tenant_id       text NOT NULL,
  event           text NOT NULL,
  charge_point_id text,
  site_id         text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  data            jsonb NOT NULL
);
CREATE INDEX fleet_events_tenant ON fleet_events (tenant_id, id);

-- The charger status (the fleet API's one value) last written to the log, so a message that does
-- not change it writes no charge_point.status_changed.
ALTER TABLE charger_state ADD COLUMN reported_status text;

-- Keys created with every scope (the default) keep every scope: they gain the new ones.
UPDATE api_keys SET scopes = scopes || ARRAY['read:events', 'read:alerts', 'write:alerts']
 WHERE scopes @> ARRAY['read:charge_points', 'write:charge_points', 'read:sites', 'write:sites',
                       'read:maintenance', 'write:maintenance', 'write:webhooks'];
