-- functions-version: 13
-- The ingest path, in the database: the writer sends a whole group-commit batch
-- as an array of messages (one JSON text each, a JSON array of that message's
-- events) and gets one result per event back, grouped by message, so a batch
-- costs one round trip however many messages it holds. Events of one charger keep their order.
-- The event shapes are src/ingest/events.ts (serialised by src/ingest/batch.ts).
-- Each change that operators are told about writes its fleet event here, in the same
-- transaction (dynamo_emit, src/store/functions/events.sql; catalogue in docs/events.md).
-- Re-created on every migrate run (src/store/migrate.ts): edit here, never in a migration,
-- and raise functions-version above whenever a change here must not be undone by an older build.

CREATE OR REPLACE FUNCTION dynamo_split_status_interval(p_cp text, p_connector integer, p_status text, p_at timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  cur record;
  ends timestamptz;
BEGIN
  -- The interval containing p_at is split there, so an offline-queued report lands
  -- at its own time. Equal neighbours are not merged: a later replay splits against them.
  SELECT started_at, ended_at INTO cur FROM connector_status_intervals
   WHERE charge_point_id = p_cp AND connector_id = p_connector
     AND started_at <= p_at AND (ended_at IS NULL OR ended_at > p_at);
  IF FOUND AND cur.started_at = p_at THEN
    UPDATE connector_status_intervals SET status = p_status
     WHERE charge_point_id = p_cp AND connector_id = p_connector AND started_at = p_at;
    RETURN;
  END IF;
  IF FOUND THEN
    ends := cur.ended_at;
    UPDATE connector_status_intervals SET ended_at = p_at
     WHERE charge_point_id = p_cp AND connector_id = p_connector AND started_at = cur.started_at;
  ELSE
    SELECT min(started_at) INTO ends FROM connector_status_intervals
     WHERE charge_point_id = p_cp AND connector_id = p_connector AND started_at > p_at;
  END IF;
  INSERT INTO connector_status_intervals (charge_point_id, connector_id, status, started_at, ended_at)
  VALUES (p_cp, p_connector, p_status, p_at, ends);
END $$;

CREATE OR REPLACE FUNCTION dynamo_note(p_cp text, p_kind text, p_payload jsonb, p_at timestamptz, p_received timestamptz)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO charger_messages (charge_point_id, kind, payload, occurred_at, received_at)
  VALUES (p_cp, p_kind, p_payload, p_at, p_received)
$$;

-- A connector status report: the event, the status interval, the current view and (OCPP 1.6)
-- the error event its errorCode opens or resolves.
CREATE OR REPLACE FUNCTION dynamo_record_status(p_cp text, p_connector integer, p_evse integer, p_status text,
  p_error_code text, p_info text, p_vendor_id text, p_vendor_error_code text, p_charger_time timestamptz,
  p_received timestamptz, p_at timestamptz, p_event_id text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_code text := nullif(p_error_code, 'NoError');
  v_before text;
  v_moved boolean;
  r record;
BEGIN
  INSERT INTO connector_status_events (charge_point_id, connector_id, evse_id, status, error_code, info, vendor_id,
    vendor_error_code, charger_time, received_at, effective_at)
  VALUES (p_cp, p_connector, p_evse, p_status, p_error_code, p_info, p_vendor_id, p_vendor_error_code, p_charger_time, p_received, p_at);
  PERFORM dynamo_split_status_interval(p_cp, p_connector, p_status, p_at);
  -- The current view moves only forward in time: a late report does not overwrite a newer one.
  SELECT status INTO v_before FROM connectors WHERE charge_point_id = p_cp AND connector_id = p_connector;
  INSERT INTO connectors (charge_point_id, connector_id, evse_id, status, error_code, status_at)
  VALUES (p_cp, p_connector, p_evse, p_status, p_error_code, p_at)
  ON CONFLICT (charge_point_id, connector_id) DO UPDATE SET
    status = excluded.status, error_code = excluded.error_code, status_at = excluded.status_at,
    evse_id = coalesce(excluded.evse_id, connectors.evse_id)
  WHERE connectors.status_at <= excluded.status_at;
  GET DIAGNOSTICS v_moved = ROW_COUNT;
  -- Told when the current view changes; a late report or a repeat of the same status is history only.
  IF v_moved AND v_before IS DISTINCT FROM p_status THEN
    PERFORM dynamo_emit(p_cp, 'connector.status_changed', jsonb_build_object('connector_id', p_connector,
      'evse_id', p_evse, 'status', p_status, 'previous_status', v_before, 'error_code', v_code, 'at', dynamo_ts(p_at)));
  END IF;
  -- OCPP 1.6 error events (docs/metrics.md): one per connector and errorCode while it
  -- persists; resolved when the connector reports NoError or another code. OCPP 2.x
  -- statuses carry no errorCode (their errors come as ErrorRaised/ErrorCleared).
  IF p_error_code IS NOT NULL THEN
    FOR r IN UPDATE error_events SET resolved_at = p_at
     WHERE charge_point_id = p_cp AND connector_id = p_connector AND resolved_at IS NULL
       AND source = 'status' AND (v_code IS NULL OR error_code <> v_code) AND occurred_at <= p_at
     RETURNING * LOOP
      PERFORM dynamo_emit_fault(to_jsonb(r), 'charge_point.fault_resolved');
    END LOOP;
  END IF;
  IF v_code IS NOT NULL THEN
    FOR r IN INSERT INTO error_events (event_id, charge_point_id, connector_id, error_code, info, vendor_error_code, status, occurred_at, received_at)
    VALUES (p_event_id, p_cp, p_connector, v_code, p_info, p_vendor_error_code, p_status, p_at, p_received)
    ON CONFLICT (charge_point_id, connector_id, error_code) WHERE resolved_at IS NULL DO NOTHING
    RETURNING * LOOP
      PERFORM dynamo_emit_fault(to_jsonb(r), 'charge_point.fault');
    END LOOP;
  END IF;
END $$;

-- Plausibility of an energy register reading in Wh (docs/ocpp.md "Meter plausibility"): NULL when
-- plausible, else why not. p_start is the session's meter start, p_last its latest reading when the
-- new one is later in time (both NULL outside a session). Bounds: a register lies in 0 … 10 GWh; it
-- may read up to 10 Wh below an earlier reading (rounding of kWh registers); one session delivers
-- at most 2,000 kWh (more than the largest truck battery).
CREATE OR REPLACE FUNCTION dynamo_energy_verdict(p_wh double precision, p_start double precision, p_last double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_wh < 0 THEN 'negative'
    WHEN p_wh > 1e10 THEN 'beyond_register_range'
    WHEN p_start IS NOT NULL AND p_wh < p_start - 10 THEN 'below_meter_start'
    WHEN p_last IS NOT NULL AND p_wh < p_last - 10 THEN 'decreasing'
    WHEN p_start IS NOT NULL AND p_wh - p_start > 2e6 THEN 'session_energy_beyond_bound'
  END
$$;

-- OCPP 2.x: whether a provisional start (an Updated or Ended seen for its transaction) teaches the
-- stored session anything: an earlier start, an EVSE where it had none (0), a token where it had none.
-- What it may teach only moves one way, so a session already past it stays past it.
CREATE OR REPLACE FUNCTION dynamo_start_teaches(p_known_at timestamptz, p_known_connector integer, p_known_tag text,
  p_at timestamptz, p_connector integer, p_tag text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT p_at < p_known_at OR (p_known_connector = 0 AND p_connector <> 0) OR (p_known_tag IS NULL AND p_tag IS NOT NULL)
$$;

-- The events of one message, in order; one result per event.
CREATE OR REPLACE FUNCTION dynamo_apply_message(p_events jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
  results jsonb := '[]'::jsonb;
  cp text;
  at timestamptz;
  received timestamptz;
  v_id bigint;
  v_tx text;
  v_session bigint;
  v_status text;
  v_verdict text;
  v_wh double precision;
  v_s record;
  v_at timestamptz;
  v_bad jsonb;
  v_count integer;
  v_evse integer;
  v_state text;
  v_sync text;
  v_row record;
  v_sync_at timestamptz;
  -- This event changed what the charger status is made of (the open connection, a connector's
  -- status, an open session: dynamo_charger_status).
  v_changes_status boolean;
  v_previous jsonb;
  -- OCPP 2.x: the seqNo claim this message's TransactionSeq made, so the guarded events after it
  -- need not look it up again (the key is the message's own, random: no other message has it).
  v_claimed text;
  -- OCPP 2.x: a provisional start, and its session as stored (to tell whether it teaches anything).
  v_provisional boolean;
  v_connector integer;
  v_known_started timestamptz;
  v_known_connector integer;
  v_known_tag text;
BEGIN
  FOR e IN SELECT value FROM jsonb_array_elements(p_events) LOOP
    cp := e->>'cp';
    at := (e->>'at')::timestamptz;
    received := coalesce((e->>'receivedAt')::timestamptz, at);

    -- OCPP 2.x: the changes of a TransactionEvent apply only if their message claimed its seqNo
    -- (TransactionSeq, earlier in the same message); a retransmission's are skipped.
    IF e ? 'guard' AND e->'guard'->>'messageKey' IS DISTINCT FROM v_claimed AND NOT EXISTS (
         SELECT 1 FROM transaction_event_seq g
          WHERE g.charge_point_id = cp AND g.transaction_id = e->'guard'->>'transactionId'
            AND g.seq_no = (e->'guard'->>'seqNo')::integer AND g.message_key = e->'guard'->>'messageKey') THEN
      results := results || '[{"skipped": true}]'::jsonb;
      CONTINUE;
    END IF;

    v_changes_status := e->>'type' IN ('Connected', 'Disconnected', 'StatusChanged', 'SessionEnded');
    CASE e->>'type'
    WHEN 'Connected' THEN
      -- One node per charger: claim the charger's hold first (holds.sql); the node that held it is told to let go.
      v_previous := dynamo_claim_charger(cp);
      -- Any interval still open for this charger (replaced here, or left by a lost node) ends first.
      FOR v_s IN UPDATE connections SET disconnected_at = greatest(connected_at, least(last_heard_at, at)), disconnect_reason = 'replaced'
       WHERE charge_point_id = cp AND disconnected_at IS NULL RETURNING connection_id, disconnected_at LOOP
        PERFORM dynamo_emit(cp, 'charge_point.disconnected',
          jsonb_build_object('connection_id', v_s.connection_id, 'reason', 'replaced', 'at', dynamo_ts(v_s.disconnected_at)));
      END LOOP;
      INSERT INTO connections (charge_point_id, node_id, ocpp_version, remote_address, connected_at, last_heard_at)
      VALUES (cp, e->>'nodeId', e->>'ocppVersion', e->>'remoteAddress', at, at)
      RETURNING connection_id INTO v_id;
      PERFORM dynamo_hold_charger(cp, e->>'nodeId', v_id, at);
      PERFORM dynamo_emit(cp, 'charge_point.connected', jsonb_build_object('connection_id', v_id,
        'ocpp_version', e->>'ocppVersion', 'node_id', e->>'nodeId', 'at', dynamo_ts(at)));
      INSERT INTO charger_state (charge_point_id, ocpp_version, last_seen) VALUES (cp, e->>'ocppVersion', at)
      ON CONFLICT (charge_point_id) DO UPDATE SET ocpp_version = excluded.ocpp_version,
        last_seen = greatest(charger_state.last_seen, excluded.last_seen);
      results := results || jsonb_build_array(jsonb_build_object('connectionId', v_id, 'previousHolder', v_previous));

    WHEN 'Disconnected' THEN
      FOR v_s IN UPDATE connections SET disconnected_at = greatest(connected_at, at), disconnect_reason = e->>'reason',
             last_heard_at = greatest(last_heard_at, least(at, now()))
       WHERE connection_id = (e->>'connectionId')::bigint AND disconnected_at IS NULL
       RETURNING connection_id, disconnected_at LOOP
        PERFORM dynamo_emit(cp, 'charge_point.disconnected',
          jsonb_build_object('connection_id', v_s.connection_id, 'reason', e->>'reason', 'at', dynamo_ts(v_s.disconnected_at)));
      END LOOP;
      PERFORM dynamo_release_charger(cp, (e->>'connectionId')::bigint);
      results := results || '[{}]'::jsonb;

    WHEN 'Booted' THEN
      INSERT INTO charger_state (charge_point_id, vendor, model, serial_number, box_serial_number, firmware_version,
                                 iccid, imsi, meter_type, meter_serial, booted_at, last_seen)
      VALUES (cp, e->'boot'->>'vendor', e->'boot'->>'model', e->'boot'->>'serialNumber', e->'boot'->>'boxSerialNumber',
              e->'boot'->>'firmwareVersion', e->'boot'->>'iccid', e->'boot'->>'imsi', e->'boot'->>'meterType',
              e->'boot'->>'meterSerial', at, at)
      ON CONFLICT (charge_point_id) DO UPDATE SET
        vendor = excluded.vendor, model = excluded.model, serial_number = excluded.serial_number,
        box_serial_number = excluded.box_serial_number, firmware_version = excluded.firmware_version,
        iccid = excluded.iccid, imsi = excluded.imsi, meter_type = excluded.meter_type,
        meter_serial = excluded.meter_serial, booted_at = excluded.booted_at,
        last_seen = greatest(charger_state.last_seen, excluded.last_seen);
      results := results || '[{}]'::jsonb;

    WHEN 'StatusChanged' THEN
      v_status := e->>'status';
      -- OCPP 2.x: Occupied while the EVSE's open transaction is charging is reported as Charging
      -- (DESIGN.md §3); the session row, not the connection, knows that.
      IF v_status = 'Occupied' AND coalesce((e->>'chargingWhenOccupied')::boolean, false) AND EXISTS (
           SELECT 1 FROM sessions WHERE charge_point_id = cp AND connector_id = (e->>'connectorId')::integer
              AND stopped_at IS NULL AND charging_state = 'Charging') THEN
        v_status := 'Charging';
      END IF;
      PERFORM dynamo_record_status(cp, (e->>'connectorId')::integer, (e->>'evseId')::integer, v_status, e->>'errorCode',
        e->>'info', e->>'vendorId', e->>'vendorErrorCode', (e->>'chargerTime')::timestamptz, received, at, e->>'eventId');
      results := results || '[{}]'::jsonb;

    WHEN 'SessionStarted' THEN
      v_wh := (e->>'meterStartWh')::double precision;
      v_verdict := dynamo_energy_verdict(v_wh, NULL, NULL);
      IF v_verdict IS NOT NULL THEN
        PERFORM dynamo_note(cp, 'ImplausibleMeterValue',
          jsonb_build_object('transactionId', e->>'transactionId', 'meterStartWh', v_wh, 'reason', v_verdict), at, received);
      END IF;
      IF e->>'transactionId' IS NOT NULL THEN
        -- OCPP 2.x: the charger names the transaction. Any TransactionEvent may be the first we
        -- see (out of order, or Ended without Started): a provisional start is the earliest
        -- event time known, corrected when the real Started arrives. A provisional start for a
        -- session already known writes nothing unless it teaches something (dynamo_start_teaches):
        -- every Updated of a known transaction is one, so that is read first, without the row lock
        -- (and the id drawn from the sequence) that the upsert below takes even when its WHERE then
        -- changes nothing. A committed row already past the event stays past it, so skipping is safe.
        v_provisional := coalesce((e->>'provisional')::boolean, false);
        v_connector := coalesce((e->>'connectorId')::integer, 0);
        v_known_started := NULL;
        IF v_provisional THEN
          SELECT started_at, connector_id, id_tag INTO v_known_started, v_known_connector, v_known_tag
            FROM sessions WHERE charge_point_id = cp AND transaction_id = e->>'transactionId';
        END IF;
        IF v_known_started IS NOT NULL
           AND NOT dynamo_start_teaches(v_known_started, v_known_connector, v_known_tag, at, v_connector, e->>'idTag') THEN
          v_changes_status := false;
        ELSE
          INSERT INTO sessions (charge_point_id, transaction_id, connector_id, id_tag, started_at, meter_start_wh,
                                last_meter_wh, last_meter_at, received_at, energy_excluded)
          VALUES (cp, e->>'transactionId', v_connector, e->>'idTag', at,
                  v_wh, CASE WHEN v_verdict IS NULL THEN v_wh END,
                  CASE WHEN v_wh IS NULL OR v_verdict IS NOT NULL THEN NULL ELSE at END, received, v_verdict)
          ON CONFLICT (charge_point_id, transaction_id) DO UPDATE SET
            started_at = CASE WHEN v_provisional THEN least(sessions.started_at, excluded.started_at) ELSE excluded.started_at END,
            meter_start_wh = coalesce(CASE WHEN v_provisional THEN NULL ELSE excluded.meter_start_wh END, sessions.meter_start_wh),
            energy_excluded = CASE WHEN v_provisional THEN sessions.energy_excluded
                                   ELSE coalesce(excluded.energy_excluded, sessions.energy_excluded) END,
            id_tag = coalesce(sessions.id_tag, excluded.id_tag),
            connector_id = CASE WHEN sessions.connector_id = 0 THEN excluded.connector_id ELSE sessions.connector_id END
          WHERE NOT v_provisional
             OR dynamo_start_teaches(sessions.started_at, sessions.connector_id, sessions.id_tag,
                                     excluded.started_at, excluded.connector_id, excluded.id_tag)
          RETURNING session_id, connector_id, id_tag, started_at, transaction_id, (xmax = 0) AS inserted INTO v_s;
          -- A session opened (or moved to another connector) can change the status; a provisional
          -- start that taught nothing, as every Updated of a known transaction is, cannot.
          v_changes_status := FOUND;
          IF v_changes_status AND v_s.inserted THEN
            PERFORM dynamo_emit_session_started(cp, to_jsonb(v_s));
          END IF;
        END IF;
        results := results || jsonb_build_array(jsonb_build_object('transactionId', e->>'transactionId'));
      ELSE
        -- OCPP 1.6, idempotent: a start retried after a lost answer gets the id it got the first time.
        INSERT INTO sessions (charge_point_id, transaction_id, connector_id, id_tag, started_at, meter_start_wh,
                              last_meter_wh, last_meter_at, received_at, energy_excluded)
        VALUES (cp, nextval('ocpp16_transaction_ids')::text, (e->>'connectorId')::integer,
                e->>'idTag', at, v_wh, CASE WHEN v_verdict IS NULL THEN v_wh END, at, received, v_verdict)
        ON CONFLICT (charge_point_id, connector_id, id_tag, meter_start_wh, started_at)
          DO UPDATE SET received_at = sessions.received_at
        RETURNING session_id, connector_id, id_tag, started_at, transaction_id, (xmax = 0) AS inserted INTO v_s;
        v_tx := v_s.transaction_id;
        v_session := v_s.session_id;
        IF v_s.inserted THEN
          PERFORM dynamo_emit_session_started(cp, to_jsonb(v_s));
        END IF;
        -- A session still open on that connector ended unseen: close it at this start.
        FOR v_row IN UPDATE sessions SET stopped_at = greatest(started_at, at), meter_stop_wh = last_meter_wh, stop_reason = 'SupersededByNewSession'
         WHERE charge_point_id = cp AND connector_id = (e->>'connectorId')::integer AND stopped_at IS NULL
           AND session_id <> v_session AND started_at <= at RETURNING * LOOP
          PERFORM dynamo_emit_session_ended(to_jsonb(v_row));
        END LOOP;
        results := results || jsonb_build_array(jsonb_build_object('transactionId', v_tx));
        v_changes_status := true;
      END IF;

    WHEN 'MeterSampled' THEN
      -- No transactionId finds no row: every field of v_s is then NULL.
      SELECT session_id, connector_id, meter_start_wh, last_meter_wh, last_meter_at INTO v_s
        FROM sessions WHERE charge_point_id = cp AND transaction_id = e->>'transactionId';
      IF e->>'transactionId' IS NOT NULL THEN
        IF v_s.session_id IS NULL THEN
          PERFORM dynamo_note(cp, 'MeterValuesForUnknownTransaction',
            jsonb_build_object('transactionId', e->>'transactionId', 'connectorId', e->'connectorId'),
            coalesce((e->'samples'->0->>'sampledAt')::timestamptz, received), received);
        END IF;
      END IF;
      -- Energy readings that are not plausible are kept out of the samples (and so out of every
      -- energy figure) and recorded as one violation note per message.
      WITH s AS (
        SELECT (x->>'sampledAt')::timestamptz AS sampled_at, x->>'measurand' AS measurand, x->>'phase' AS phase,
               (x->>'value')::double precision AS value, x->>'unit' AS unit, x->>'context' AS context
          FROM jsonb_array_elements(e->'samples') AS x
      ), judged AS (
        SELECT s.*, CASE WHEN s.measurand = 'Energy.Active.Import.Register' THEN
                      dynamo_energy_verdict(s.value, v_s.meter_start_wh,
                        CASE WHEN v_s.last_meter_at IS NULL OR s.sampled_at >= v_s.last_meter_at THEN v_s.last_meter_wh END)
                    END AS verdict
          FROM s
      ), stored AS (
        INSERT INTO meter_samples (charge_point_id, session_id, connector_id, sampled_at, measurand, phase, value, unit, context)
        SELECT cp, v_s.session_id, coalesce((e->>'connectorId')::integer, v_s.connector_id, 0),
               j.sampled_at, j.measurand, j.phase, j.value, j.unit, j.context
          FROM judged j WHERE j.verdict IS NULL
      )
      -- One pass over the samples: the implausible ones to note, and the latest plausible energy reading.
      SELECT b.bad, le.value, le.sampled_at INTO v_bad, v_wh, v_at
        FROM (SELECT jsonb_agg(jsonb_build_object('sampledAt', j.sampled_at, 'phase', j.phase, 'valueWh', j.value, 'reason', j.verdict)) AS bad
                FROM judged j WHERE j.verdict IS NOT NULL) b
        LEFT JOIN LATERAL (
          SELECT j.value, j.sampled_at FROM judged j
           WHERE j.measurand = 'Energy.Active.Import.Register' AND j.phase IS NULL AND j.verdict IS NULL
           ORDER BY j.sampled_at DESC LIMIT 1) le ON true;
      IF v_bad IS NOT NULL THEN
        PERFORM dynamo_note(cp, 'ImplausibleMeterValue',
          jsonb_build_object('transactionId', e->>'transactionId', 'connectorId', e->'connectorId', 'samples', v_bad),
          (v_bad->0->>'sampledAt')::timestamptz, received);
      END IF;
      IF v_s.session_id IS NOT NULL AND v_at IS NOT NULL THEN
        UPDATE sessions SET last_meter_wh = v_wh, last_meter_at = v_at
         WHERE session_id = v_s.session_id AND (last_meter_at IS NULL OR last_meter_at <= v_at);
      END IF;
      results := results || jsonb_build_array(jsonb_build_object('unknownTransaction', e->>'transactionId' IS NOT NULL AND v_s.session_id IS NULL));

    WHEN 'ChargingState' THEN
      -- OCPP 2.x chargingState (E02): Charging makes the EVSE report Charging; leaving Charging
      -- (or the transaction ending) makes it Occupied, the cable may still be in, until the next
      -- StatusNotification. A state older than the one stored changes nothing.
      SELECT session_id, connector_id, charging_state, charging_state_at INTO v_s
        FROM sessions WHERE charge_point_id = cp AND transaction_id = e->>'transactionId';
      IF v_s.session_id IS NOT NULL AND (v_s.charging_state_at IS NULL OR v_s.charging_state_at <= at) THEN
        v_state := CASE WHEN coalesce((e->>'ended')::boolean, false) THEN 'Ended'
                        ELSE coalesce(e->>'chargingState', v_s.charging_state) END;
        v_evse := coalesce((e->>'evseId')::integer, v_s.connector_id);
        UPDATE sessions SET charging_state = v_state, charging_state_at = at WHERE session_id = v_s.session_id;
        IF v_evse > 0 AND v_state = 'Charging' AND (v_s.charging_state IS DISTINCT FROM 'Charging' OR NOT EXISTS (
             SELECT 1 FROM connectors WHERE charge_point_id = cp AND connector_id = v_evse AND status = 'Charging')) THEN
          PERFORM dynamo_record_status(cp, v_evse, v_evse, 'Charging', NULL, NULL, NULL, NULL, at, received, at, NULL);
          v_changes_status := true;
        ELSIF v_evse > 0 AND v_s.charging_state = 'Charging' AND v_state IS DISTINCT FROM 'Charging' THEN
          PERFORM dynamo_record_status(cp, v_evse, v_evse, 'Occupied', NULL, NULL, NULL, NULL, at, received, at, NULL);
          v_changes_status := true;
        END IF;
      END IF;
      results := results || '[{}]'::jsonb;

    WHEN 'SessionEnded' THEN
      SELECT session_id, meter_start_wh, last_meter_wh, last_meter_at, stopped_at, stop_reason INTO v_s
        FROM sessions WHERE charge_point_id = cp AND transaction_id = e->>'transactionId';
      v_wh := (e->>'meterStopWh')::double precision;
      v_verdict := dynamo_energy_verdict(v_wh, v_s.meter_start_wh,
                     CASE WHEN v_s.last_meter_at IS NULL OR at >= v_s.last_meter_at THEN v_s.last_meter_wh END);
      IF v_verdict IS NOT NULL THEN
        PERFORM dynamo_note(cp, 'ImplausibleMeterValue',
          jsonb_build_object('transactionId', e->>'transactionId', 'meterStopWh', v_wh, 'reason', v_verdict), at, received);
        v_wh := NULL;
      END IF;
      UPDATE sessions SET
          stopped_at = CASE WHEN stopped_at IS NULL OR stop_reason = 'SupersededByNewSession' THEN greatest(started_at, at) ELSE stopped_at END,
          meter_stop_wh = coalesce(v_wh, meter_stop_wh, last_meter_wh),
          stop_reason = CASE WHEN stopped_at IS NULL OR stop_reason = 'SupersededByNewSession' THEN e->>'reason' ELSE stop_reason END,
          last_meter_wh = CASE WHEN v_wh IS NOT NULL AND (last_meter_at IS NULL OR last_meter_at <= at) THEN v_wh ELSE last_meter_wh END,
          last_meter_at = CASE WHEN v_wh IS NOT NULL AND (last_meter_at IS NULL OR last_meter_at <= at) THEN at ELSE last_meter_at END
       WHERE session_id = v_s.session_id
       RETURNING * INTO v_row;
      -- Told once, when the session closes (a repeated or late stop changes no state anyone watches);
      -- a session closed as superseded and then truly stopped was told at the supersession.
      IF v_s.session_id IS NOT NULL AND v_s.stopped_at IS NULL THEN
        PERFORM dynamo_emit_session_ended(to_jsonb(v_row));
      END IF;
      IF v_s.session_id IS NULL THEN
        PERFORM dynamo_note(cp, 'StopForUnknownTransaction',
          jsonb_build_object('transactionId', e->>'transactionId', 'meterStopWh', e->'meterStopWh', 'reason', e->'reason'), at, received);
      END IF;
      results := results || jsonb_build_array(jsonb_build_object('unknownTransaction', v_s.session_id IS NULL));

    WHEN 'FirmwareStatus' THEN
      UPDATE charger_state SET firmware_status = e->>'status' WHERE charge_point_id = cp;
      PERFORM dynamo_note(cp, 'FirmwareStatus', jsonb_build_object('status', e->>'status'), at, received);
      results := results || '[{}]'::jsonb;

    WHEN 'DiagnosticsStatus' THEN
      UPDATE charger_state SET diagnostics_status = e->>'status' WHERE charge_point_id = cp;
      PERFORM dynamo_note(cp, 'DiagnosticsStatus', jsonb_build_object('status', e->>'status'), at, received);
      results := results || '[{}]'::jsonb;

    WHEN 'Noted' THEN
      PERFORM dynamo_note(cp, e->>'kind', e->'payload', at, received);
      results := results || '[{}]'::jsonb;

    WHEN 'ErrorRaised' THEN
      -- OCPP 2.x problems (NotifyEvent) and Faulted statuses. A Faulted status adds no event
      -- when a problem is already open on that connector (it is the same fault, told twice).
      SELECT count(*) INTO v_count FROM error_events
       WHERE charge_point_id = cp AND connector_id = (e->>'connectorId')::integer AND resolved_at IS NULL;
      IF NOT (coalesce((e->>'unlessOpen')::boolean, false) AND v_count > 0) THEN
        -- The status the connector was in when the problem was reported, as a 1.6 status report carries it.
        FOR v_s IN INSERT INTO error_events (event_id, charge_point_id, connector_id, error_code, info, vendor_error_code, status,
                                  occurred_at, received_at, source, component_variable)
        VALUES (e->>'eventId', cp, (e->>'connectorId')::integer, e->>'errorCode', e->>'info', NULL,
                coalesce(e->>'status', (SELECT status FROM connectors WHERE charge_point_id = cp AND connector_id = (e->>'connectorId')::integer)),
                at, received, e->>'source', e->>'componentVariable')
        ON CONFLICT (charge_point_id, connector_id, error_code) WHERE resolved_at IS NULL DO NOTHING
        RETURNING * LOOP
          PERFORM dynamo_emit_fault(to_jsonb(v_s), 'charge_point.fault');
        END LOOP;
      END IF;
      results := results || '[{}]'::jsonb;

    WHEN 'ErrorCleared' THEN
      FOR v_s IN UPDATE error_events SET resolved_at = at
       WHERE charge_point_id = cp AND connector_id = (e->>'connectorId')::integer AND resolved_at IS NULL
         AND source = e->>'source' AND occurred_at <= at
         AND (error_code = e->>'errorCode' OR component_variable = e->>'componentVariable')
       RETURNING * LOOP
        PERFORM dynamo_emit_fault(to_jsonb(v_s), 'charge_point.fault_resolved');
      END LOOP;
      results := results || '[{}]'::jsonb;

    WHEN 'TransactionSeq' THEN
      -- OCPP 2.x TransactionEvent seqNo: a repeat (answer lost, charger resent) is recognised and skipped.
      INSERT INTO transaction_event_seq (charge_point_id, transaction_id, seq_no, received_at, message_key)
      VALUES (cp, e->>'transactionId', (e->>'seqNo')::integer, received, e->>'messageKey')
      ON CONFLICT DO NOTHING;
      GET DIAGNOSTICS v_count = ROW_COUNT;
      IF v_count = 1 THEN
        v_claimed := e->>'messageKey';
      END IF;
      results := results || jsonb_build_array(jsonb_build_object('duplicate', v_count = 0));

    WHEN 'ConnectorType' THEN
      INSERT INTO connectors (charge_point_id, connector_id, evse_id, connector_type, status, status_at)
      VALUES (cp, (e->>'connectorId')::integer, (e->>'evseId')::integer, e->>'connectorType', 'Unknown', '-infinity')
      ON CONFLICT (charge_point_id, connector_id) DO UPDATE SET connector_type = excluded.connector_type;
      results := results || '[{}]'::jsonb;

    ELSE
      RAISE EXCEPTION 'dynamo_apply: unknown event type %', e->>'type';
    END CASE;
    IF v_changes_status THEN
      v_sync := cp;
      v_sync_at := at;
    END IF;
  END LOOP;
  -- Once per message, after all its events, when one of them changed what the status is made of:
  -- the charger status as the fleet API would show it now.
  IF v_sync IS NOT NULL THEN
    PERFORM dynamo_sync_charger_status(v_sync, v_sync_at);
  END IF;
  RETURN results;
END $$;

DROP FUNCTION IF EXISTS dynamo_apply(jsonb);

-- A batch: one JSON text per message, parsed here so that a message the database cannot take
-- (bad encoding, a value out of range) fails as itself. The error names the message (DETAIL
-- "dynamo_apply message N", 0-based) so the writer refuses that one and commits the rest again.
CREATE OR REPLACE FUNCTION dynamo_apply(p_messages text[]) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_index integer := -1;
  v_message text;
  v_results jsonb[] := '{}';
BEGIN
  PERFORM dynamo_wake_after_commit();
  FOREACH v_message IN ARRAY p_messages LOOP
    v_index := v_index + 1;
    v_results := array_append(v_results, dynamo_apply_message(v_message::jsonb));
  END LOOP;
  RETURN to_jsonb(v_results);
EXCEPTION WHEN OTHERS THEN
  -- A deadlock or serialization failure is the database's, not the message's: named as such, the
  -- writer runs the whole batch again.
  IF SQLSTATE IN ('40P01', '40001') THEN
    RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = SQLERRM, DETAIL = 'dynamo_apply transient';
  END IF;
  RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = SQLERRM, DETAIL = 'dynamo_apply message ' || v_index;
END $$;

-- The same batch as one JSON text (an array of messages, each an array of events): one parse and
-- no array literal to escape and split, which is what a batch cost above. A batch that does not
-- parse as a whole names no message; the writer then sends it again through dynamo_apply(text[]),
-- which finds the message that cannot be taken.
CREATE OR REPLACE FUNCTION dynamo_apply_batch(p_batch text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_index integer := -1;
  v_message jsonb;
  -- An array grows in place; a jsonb value would be copied whole for each message appended.
  v_results jsonb[] := '{}';
BEGIN
  PERFORM dynamo_wake_after_commit();
  FOR v_message IN SELECT value FROM jsonb_array_elements(p_batch::jsonb) LOOP
    v_index := v_index + 1;
    v_results := array_append(v_results, dynamo_apply_message(v_message));
  END LOOP;
  RETURN to_jsonb(v_results);
EXCEPTION WHEN OTHERS THEN
  -- Before the first message: the text as a whole does not parse. The writer then sends one text
  -- per message (dynamo_apply), so the message at fault fails as itself.
  IF SQLSTATE IN ('40P01', '40001') THEN
    RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = SQLERRM, DETAIL = 'dynamo_apply transient';
  END IF;
  IF v_index < 0 THEN
    RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = SQLERRM, DETAIL = 'dynamo_apply batch unparsed';
  END IF;
  RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = SQLERRM, DETAIL = 'dynamo_apply message ' || v_index;
END $$;
