-- functions-version: 1
-- One node per charger (docs/operations.md "Cluster"). Called by dynamo_apply() (ingest.sql) in the
-- transaction of a Connected or Disconnected event, so a hold and the online interval it belongs to
-- commit together. Re-created on every migrate run, like ingest.sql.

-- Starts a claim: waits for any other claim of the same charger to commit (the row lock on the
-- charger), then returns the hold it replaces ({nodeId, connectionId}) or NULL. Without the lock,
-- two nodes connecting the same charger at once would both see no open connection and the second
-- would fail on connections_one_open_per_charger instead of replacing the first.
CREATE OR REPLACE FUNCTION dynamo_claim_charger(p_cp text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v record;
BEGIN
  PERFORM 1 FROM chargers WHERE charge_point_id = p_cp FOR NO KEY UPDATE;
  -- A new statement, so a new snapshot: a claim committed while we waited is seen here.
  SELECT node_id, connection_id INTO v FROM charger_holds WHERE charge_point_id = p_cp;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN jsonb_build_object('nodeId', v.node_id, 'connectionId', v.connection_id);
END $$;

-- Ends a claim: the charger is now held by this node's new connection.
CREATE OR REPLACE FUNCTION dynamo_hold_charger(p_cp text, p_node text, p_connection bigint, p_at timestamptz)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO charger_holds (charge_point_id, node_id, connection_id, held_since)
  VALUES (p_cp, p_node, p_connection, p_at)
  ON CONFLICT (charge_point_id) DO UPDATE SET
    node_id = excluded.node_id, connection_id = excluded.connection_id, held_since = excluded.held_since
$$;

-- A disconnect releases the hold of its own connection only: a newer connection's hold stays.
CREATE OR REPLACE FUNCTION dynamo_release_charger(p_cp text, p_connection bigint)
RETURNS void LANGUAGE sql AS $$
  DELETE FROM charger_holds WHERE charge_point_id = p_cp AND connection_id = p_connection
$$;
