-- A cluster of nodes on one database (docs/operations.md "Cluster"). The database decides which node
-- holds a charger: one row per held charger, claimed in the transaction that records the Connected
-- event (src/store/functions/holds.sql), valid while the holding node's lease is.

-- What a node runs and how long its lease lasts, so any node (and the admin API) can tell when it expires.
ALTER TABLE nodes ADD COLUMN version text;
ALTER TABLE nodes ADD COLUMN lease_ttl_sec integer;
-- Set when a node starts draining (SIGTERM): it takes no new chargers and hands its own over.
ALTER TABLE nodes ADD COLUMN draining_at timestamptz;
CREATE INDEX nodes_live ON nodes (node_id) WHERE stopped_at IS NULL;

CREATE TABLE charger_holds (
  charge_point_id text PRIMARY KEY REFERENCES chargers (charge_point_id) ON DELETE CASCADE,
  node_id         text NOT NULL,
  -- The connection the hold belongs to: a disconnect releases only its own hold, never a newer one.
  connection_id   bigint NOT NULL,
  held_since      timestamptz NOT NULL
);
CREATE INDEX charger_holds_node ON charger_holds (node_id);

-- Connections open at the upgrade keep their charger held by the node that has them.
INSERT INTO charger_holds (charge_point_id, node_id, connection_id, held_since)
SELECT charge_point_id, node_id, connection_id, connected_at FROM connections WHERE disconnected_at IS NULL;
