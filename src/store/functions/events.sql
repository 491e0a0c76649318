-- functions-version: 8
-- Writing the fleet event log (migration 0008, docs/events.md). Called inside the transaction
-- that makes the change, so a change and its event are durable together or not at all.

-- Instants in event data as the API writes them (src/api/schemas/timestamps.ts): UTC, whole seconds.
-- STABLE, as to_char is: a function declared IMMUTABLE around a STABLE body is never inlined, and
-- called as a function it cost ~30 µs a call on the ingest path (docs/benchmarks.md, "The database's side
-- of a message").
CREATE OR REPLACE FUNCTION dynamo_ts(p_at timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- An ingest batch says so first (dynamo_apply_batch, dynamo_apply): its events then send no NOTIFY,
-- and its writer wakes the readers once the batch has committed (src/events/wake-notifier.ts). A
-- NOTIFY takes one lock for the whole database from its commit until that commit's WAL is flushed,
-- so every commit lane that wrote an event waited for every other one's flush in turn
-- (docs/benchmarks.md, "The NOTIFY lock, measured again with a fleet out of step").
CREATE OR REPLACE FUNCTION dynamo_wake_after_commit() RETURNS void LANGUAGE sql AS $$
  SELECT set_config('dynamo.wake_after_commit', 'on', true);
$$;

-- How many events the current transaction has written.
CREATE OR REPLACE FUNCTION dynamo_events_written() RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('dynamo.event_ordinal', true), '')::integer, 0)
$$;

-- One event in the current transaction, ordered after every event it wrote before.
CREATE OR REPLACE FUNCTION dynamo_emit_for(p_tenant text, p_event text, p_cp text, p_site text, p_data jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_n integer := coalesce(nullif(current_setting('dynamo.event_ordinal', true), '')::integer, 0) + 1;
  v_id bigint;
BEGIN
  IF v_n >= 1048576 THEN
    RAISE EXCEPTION 'dynamo_emit: more than 2^20 events in one transaction';
  END IF;
  PERFORM set_config('dynamo.event_ordinal', v_n::text, true);
  v_id := (pg_current_xact_id()::text::bigint << 20) | v_n;
  INSERT INTO fleet_events (id, tenant_id, event, charge_point_id, site_id, data)
  VALUES (v_id, p_tenant, p_event, p_cp, p_site, p_data);
  -- Wakes the log's readers on every node at commit: once per transaction (its first event),
  -- unless the transaction is an ingest batch, whose writer wakes them after the commit instead.
  IF v_n = 1 AND current_setting('dynamo.wake_after_commit', true) IS DISTINCT FROM 'on' THEN
    PERFORM pg_notify('dynamo_fleet_events', '');
  END IF;
  RETURN v_id;
END $$;

-- An event about a charger: its tenant and site are the charger's. A charger deleted meanwhile has none.
CREATE OR REPLACE FUNCTION dynamo_emit(p_cp text, p_event text, p_data jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  c record;
BEGIN
  SELECT tenant_id, site_id INTO c FROM chargers WHERE charge_point_id = p_cp;
  IF FOUND THEN
    PERFORM dynamo_emit_for(c.tenant_id, p_event, p_cp, c.site_id,
      jsonb_build_object('charge_point_id', p_cp, 'site_id', c.site_id) || p_data);
  END IF;
END $$;

-- The charger status of the fleet API (docs/metrics.md "Charger status"), for one charger: the one
-- rule. Kept per charger in chargers.reported_status (below), which the summary, the chargers
-- list and its status filter read (src/fleet/charger-status.ts).
-- PL/pgSQL rather than SQL: a SQL function with a FROM is not inlined, and its statement is parsed
-- and planned again in every transaction that calls it (an ingest batch is one); PL/pgSQL keeps
-- its plans for the connection's life (docs/benchmarks.md, "The database's side of a message").
CREATE OR REPLACE FUNCTION dynamo_charger_status(p_cp text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  x record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM connections k WHERE k.charge_point_id = p_cp AND k.disconnected_at IS NULL) THEN
    RETURN 'Offline';
  END IF;
  SELECT coalesce(bool_or(c.status = 'Faulted'), false) AS faulted,
         coalesce(bool_or(c.status IN ('Faulted', 'Unavailable')) FILTER (WHERE c.connector_id = 0), false) AS connector0_down,
         coalesce(bool_and(c.status IN ('Faulted', 'Unavailable')) FILTER (WHERE c.connector_id > 0), false) AS every_connector_down,
         coalesce(bool_or(c.status = 'Available') FILTER (WHERE c.connector_id > 0), false) AS available
    INTO x FROM connectors c WHERE c.charge_point_id = p_cp;
  IF x.faulted THEN
    RETURN 'Faulted';
  END IF;
  IF x.connector0_down OR x.every_connector_down THEN
    RETURN 'Unavailable';
  END IF;
  IF EXISTS (SELECT 1 FROM sessions z WHERE z.charge_point_id = p_cp AND z.stopped_at IS NULL) THEN
    RETURN 'Charging';
  END IF;
  RETURN CASE WHEN x.available THEN 'Available' ELSE 'Unavailable' END;
END $$;

-- Writes charge_point.status_changed when the charger's status differs from the one last written.
CREATE OR REPLACE FUNCTION dynamo_sync_charger_status(p_cp text, p_at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_now text;
  v_before text;
BEGIN
  -- Lock first, then read the status: two transactions changing one charger (ingest and crash
  -- recovery) then tell its changes in the order they commit, never a stale one last. NO KEY
  -- UPDATE: rows inserted for this charger elsewhere (their foreign keys take KEY SHARE) go on.
  SELECT reported_status INTO v_before FROM chargers WHERE charge_point_id = p_cp FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  v_now := dynamo_charger_status(p_cp);
  IF v_before IS NOT DISTINCT FROM v_now THEN
    RETURN;
  END IF;
  UPDATE chargers SET reported_status = v_now WHERE charge_point_id = p_cp;
  PERFORM dynamo_emit(p_cp, 'charge_point.status_changed',
    jsonb_build_object('status', v_now, 'previous_status', v_before, 'at', dynamo_ts(p_at)));
END $$;

-- Crash recovery (src/store/history/nodes.ts): every connection a dead node left open is closed at
-- its last lease, with its charge_point.disconnected and status change, in the caller's transaction.
CREATE OR REPLACE FUNCTION dynamo_close_node_connections(p_node text, p_at timestamptz, p_reason text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_count integer := 0;
BEGIN
  FOR r IN UPDATE connections SET disconnected_at = greatest(connected_at, p_at), disconnect_reason = p_reason
            WHERE node_id = p_node AND disconnected_at IS NULL
        RETURNING connection_id, charge_point_id, disconnected_at LOOP
    v_count := v_count + 1;
    PERFORM dynamo_emit(r.charge_point_id, 'charge_point.disconnected',
      jsonb_build_object('connection_id', r.connection_id, 'reason', p_reason, 'at', dynamo_ts(r.disconnected_at)));
    PERFORM dynamo_sync_charger_status(r.charge_point_id, r.disconnected_at);
  END LOOP;
  RETURN v_count;
END $$;

-- An error event opened or resolved: a row of error_events, as JSON.
CREATE OR REPLACE FUNCTION dynamo_emit_fault(p_error jsonb, p_event text) RETURNS void LANGUAGE sql AS $$
  SELECT dynamo_emit(p_error->>'charge_point_id', p_event, jsonb_build_object(
    'error_event_id', p_error->'event_id', 'connector_id', p_error->'connector_id', 'error_code', p_error->'error_code',
    'info', p_error->'info', 'vendor_error_code', p_error->'vendor_error_code', 'status', p_error->'status',
    'occurred_at', dynamo_ts((p_error->>'occurred_at')::timestamptz), 'resolved_at', dynamo_ts((p_error->>'resolved_at')::timestamptz)))
$$;

CREATE OR REPLACE FUNCTION dynamo_emit_session_started(p_cp text, p_session jsonb) RETURNS void LANGUAGE sql AS $$
  SELECT dynamo_emit(p_cp, 'session.started', jsonb_build_object(
    'session_id', 'ses_' || (p_session->>'session_id'), 'transaction_id', p_session->'transaction_id',
    'connector_id', p_session->'connector_id', 'id_tag', p_session->'id_tag', 'started_at', dynamo_ts((p_session->>'started_at')::timestamptz)))
$$;

-- A row of sessions, as JSON, just closed. energy_kwh as every figure counts it (energy.sql).
CREATE OR REPLACE FUNCTION dynamo_emit_session_ended(p_session jsonb) RETURNS void LANGUAGE sql AS $$
  SELECT dynamo_emit(p_session->>'charge_point_id', 'session.ended', jsonb_build_object(
    'session_id', 'ses_' || (p_session->>'session_id'), 'transaction_id', p_session->'transaction_id',
    'connector_id', p_session->'connector_id', 'id_tag', p_session->'id_tag', 'started_at', dynamo_ts((p_session->>'started_at')::timestamptz),
    'stopped_at', dynamo_ts((p_session->>'stopped_at')::timestamptz), 'stop_reason', p_session->'stop_reason',
    'energy_kwh', round((dynamo_session_energy_wh((p_session->>'meter_start_wh')::double precision,
      (p_session->>'meter_stop_wh')::double precision, (p_session->>'last_meter_wh')::double precision,
      p_session->>'energy_excluded') / 1000)::numeric, 3)))
$$;
