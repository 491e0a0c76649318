-- The ingest path, in the database: the writer sends a whole group-commit batch
-- as one JSON array and gets one result per event back, so a batch costs one
-- round trip however many events it holds. Events of one charger keep their order.
-- The event shapes are src/ingest/events.ts (serialised by src/ingest/batch.ts).
-- Re-created on every migrate run (src/store/migrate.ts): edit here, never in a migration.

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

CREATE OR REPLACE FUNCTION dynamo_apply(p_events jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
  results jsonb := '[]'::jsonb;
  cp text;
  at timestamptz;
  received timestamptz;
  v_id bigint;
  v_tx text;
  v_session bigint;
  v_code text;
  v_energy record;
  v_count integer;
BEGIN
  FOR e IN SELECT value FROM jsonb_array_elements(p_events) LOOP
    cp := e->>'cp';
    at := (e->>'at')::timestamptz;
    received := coalesce((e->>'receivedAt')::timestamptz, at);

    -- OCPP 2.x: the changes of a TransactionEvent apply only if their message claimed its seqNo
    -- (TransactionSeq, earlier in the same or an earlier batch); a retransmission's are skipped.
    IF e ? 'guard' AND NOT EXISTS (
         SELECT 1 FROM transaction_event_seq g
          WHERE g.charge_point_id = cp AND g.transaction_id = e->'guard'->>'transactionId'
            AND g.seq_no = (e->'guard'->>'seqNo')::integer AND g.message_key = e->'guard'->>'messageKey') THEN
      results := results || '[{"skipped": true}]'::jsonb;
      CONTINUE;
    END IF;

    CASE e->>'type'
    WHEN 'Connected' THEN
      -- Any interval still open for this charger (replaced here, or left by a lost node) ends first.
      UPDATE connections SET disconnected_at = greatest(connected_at, least(last_heard_at, at)), disconnect_reason = 'replaced'
       WHERE charge_point_id = cp AND disconnected_at IS NULL;
      INSERT INTO connections (charge_point_id, node_id, ocpp_version, remote_address, connected_at, last_heard_at)
      VALUES (cp, e->>'nodeId', e->>'ocppVersion', e->>'remoteAddress', at, at)
      RETURNING connection_id INTO v_id;
      INSERT INTO charger_state (charge_point_id, ocpp_version, last_seen) VALUES (cp, e->>'ocppVersion', at)
      ON CONFLICT (charge_point_id) DO UPDATE SET ocpp_version = excluded.ocpp_version,
        last_seen = greatest(charger_state.last_seen, excluded.last_seen);
      results := results || jsonb_build_array(jsonb_build_object('connectionId', v_id));

    WHEN 'Disconnected' THEN
      UPDATE connections SET disconnected_at = greatest(connected_at, at), disconnect_reason = e->>'reason',
             last_heard_at = greatest(last_heard_at, least(at, now()))
       WHERE connection_id = (e->>'connectionId')::bigint AND disconnected_at IS NULL;
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
      INSERT INTO connector_status_events (charge_point_id, connector_id, evse_id, status, error_code, info, vendor_id,
        vendor_error_code, charger_time, received_at, effective_at)
      VALUES (cp, (e->>'connectorId')::integer, (e->>'evseId')::integer, e->>'status', e->>'errorCode', e->>'info',
        e->>'vendorId', e->>'vendorErrorCode', (e->>'chargerTime')::timestamptz, received, at);
      PERFORM dynamo_split_status_interval(cp, (e->>'connectorId')::integer, e->>'status', at);
      -- The current view moves only forward in time: a late report does not overwrite a newer one.
      INSERT INTO connectors (charge_point_id, connector_id, evse_id, status, error_code, status_at)
      VALUES (cp, (e->>'connectorId')::integer, (e->>'evseId')::integer, e->>'status', e->>'errorCode', at)
      ON CONFLICT (charge_point_id, connector_id) DO UPDATE SET
        status = excluded.status, error_code = excluded.error_code, status_at = excluded.status_at,
        evse_id = coalesce(excluded.evse_id, connectors.evse_id)
      WHERE connectors.status_at <= excluded.status_at;
      -- OCPP 1.6 error events (docs/metrics.md): one per connector and errorCode while it
      -- persists; resolved when the connector reports NoError or another code. OCPP 2.x
      -- statuses carry no errorCode (their errors come as ErrorRaised/ErrorCleared).
      v_code := nullif(e->>'errorCode', 'NoError');
      IF e->>'errorCode' IS NOT NULL THEN
        UPDATE error_events SET resolved_at = at
         WHERE charge_point_id = cp AND connector_id = (e->>'connectorId')::integer AND resolved_at IS NULL
           AND source = 'status' AND (v_code IS NULL OR error_code <> v_code) AND occurred_at <= at;
      END IF;
      IF v_code IS NOT NULL THEN
        INSERT INTO error_events (event_id, charge_point_id, connector_id, error_code, info, vendor_error_code, status, occurred_at, received_at)
        VALUES (e->>'eventId', cp, (e->>'connectorId')::integer, v_code, e->>'info', e->>'vendorErrorCode', e->>'status', at, received)
        ON CONFLICT (charge_point_id, connector_id, error_code) WHERE resolved_at IS NULL DO NOTHING;
      END IF;
      results := results || '[{}]'::jsonb;

    WHEN 'SessionStarted' THEN
      IF e->>'transactionId' IS NOT NULL THEN
        -- OCPP 2.x: the charger names the transaction. Any TransactionEvent may be the first we
        -- see (out of order, or Ended without Started): a provisional start is the earliest
        -- event time known, corrected when the real Started arrives.
        INSERT INTO sessions (charge_point_id, transaction_id, connector_id, id_tag, started_at, meter_start_wh,
                              last_meter_wh, last_meter_at, received_at)
        VALUES (cp, e->>'transactionId', (e->>'connectorId')::integer, e->>'idTag', at,
                (e->>'meterStartWh')::double precision, (e->>'meterStartWh')::double precision,
                CASE WHEN e->>'meterStartWh' IS NULL THEN NULL ELSE at END, received)
        ON CONFLICT (charge_point_id, transaction_id) DO UPDATE SET
          started_at = CASE WHEN coalesce((e->>'provisional')::boolean, false) THEN least(sessions.started_at, excluded.started_at)
                            ELSE excluded.started_at END,
          meter_start_wh = coalesce(CASE WHEN coalesce((e->>'provisional')::boolean, false) THEN NULL ELSE excluded.meter_start_wh END, sessions.meter_start_wh),
          id_tag = coalesce(sessions.id_tag, excluded.id_tag),
          connector_id = CASE WHEN sessions.connector_id = 0 THEN excluded.connector_id ELSE sessions.connector_id END
        RETURNING transaction_id, session_id INTO v_tx, v_session;
        results := results || jsonb_build_array(jsonb_build_object('transactionId', v_tx));
        CONTINUE;
      END IF;
      -- OCPP 1.6, idempotent: a start retried after a lost answer gets the id it got the first time.
      INSERT INTO sessions (charge_point_id, transaction_id, connector_id, id_tag, started_at, meter_start_wh,
                            last_meter_wh, last_meter_at, received_at)
      VALUES (cp, coalesce(e->>'transactionId', nextval('ocpp16_transaction_ids')::text), (e->>'connectorId')::integer,
              e->>'idTag', at, (e->>'meterStartWh')::double precision, (e->>'meterStartWh')::double precision, at, received)
      ON CONFLICT (charge_point_id, connector_id, id_tag, meter_start_wh, started_at)
        DO UPDATE SET received_at = sessions.received_at
      RETURNING transaction_id, session_id INTO v_tx, v_session;
      -- A session still open on that connector ended unseen: close it at this start.
      UPDATE sessions SET stopped_at = greatest(started_at, at), meter_stop_wh = last_meter_wh, stop_reason = 'SupersededByNewSession'
       WHERE charge_point_id = cp AND connector_id = (e->>'connectorId')::integer AND stopped_at IS NULL
         AND session_id <> v_session AND started_at <= at;
      results := results || jsonb_build_array(jsonb_build_object('transactionId', v_tx));

    WHEN 'MeterSampled' THEN
      v_session := NULL;
      IF e->>'transactionId' IS NOT NULL THEN
        SELECT session_id INTO v_session FROM sessions WHERE charge_point_id = cp AND transaction_id = e->>'transactionId';
        IF v_session IS NULL THEN
          PERFORM dynamo_note(cp, 'MeterValuesForUnknownTransaction',
            jsonb_build_object('transactionId', e->>'transactionId', 'connectorId', e->'connectorId'),
            coalesce((e->'samples'->0->>'sampledAt')::timestamptz, received), received);
        END IF;
      END IF;
      INSERT INTO meter_samples (charge_point_id, session_id, connector_id, sampled_at, measurand, phase, value, unit, context)
      SELECT cp, v_session,
             coalesce((e->>'connectorId')::integer, (SELECT connector_id FROM sessions WHERE session_id = v_session), 0),
             (s->>'sampledAt')::timestamptz, s->>'measurand', s->>'phase', (s->>'value')::double precision, s->>'unit', s->>'context'
        FROM jsonb_array_elements(e->'samples') AS s;
      IF v_session IS NOT NULL THEN
        SELECT (s->>'value')::double precision AS wh, (s->>'sampledAt')::timestamptz AS t INTO v_energy
          FROM jsonb_array_elements(e->'samples') AS s
         WHERE s->>'measurand' = 'Energy.Active.Import.Register' AND s->>'phase' IS NULL
         ORDER BY (s->>'sampledAt')::timestamptz DESC LIMIT 1;
        IF FOUND THEN
          UPDATE sessions SET last_meter_wh = v_energy.wh, last_meter_at = v_energy.t
           WHERE session_id = v_session AND (last_meter_at IS NULL OR last_meter_at <= v_energy.t);
        END IF;
      END IF;
      results := results || jsonb_build_array(jsonb_build_object('unknownTransaction', e->>'transactionId' IS NOT NULL AND v_session IS NULL));

    WHEN 'SessionEnded' THEN
      UPDATE sessions SET
          stopped_at = CASE WHEN stopped_at IS NULL OR stop_reason = 'SupersededByNewSession' THEN greatest(started_at, at) ELSE stopped_at END,
          meter_stop_wh = coalesce((e->>'meterStopWh')::double precision, meter_stop_wh, last_meter_wh),
          stop_reason = CASE WHEN stopped_at IS NULL OR stop_reason = 'SupersededByNewSession' THEN e->>'reason' ELSE stop_reason END,
          last_meter_wh = CASE WHEN e->>'meterStopWh' IS NOT NULL AND (last_meter_at IS NULL OR last_meter_at <= at)
                               THEN (e->>'meterStopWh')::double precision ELSE last_meter_wh END,
          last_meter_at = CASE WHEN e->>'meterStopWh' IS NOT NULL AND (last_meter_at IS NULL OR last_meter_at <= at)
                               THEN at ELSE last_meter_at END
       WHERE charge_point_id = cp AND transaction_id = e->>'transactionId'
      RETURNING session_id INTO v_session;
      IF v_session IS NULL THEN
        PERFORM dynamo_note(cp, 'StopForUnknownTransaction',
          jsonb_build_object('transactionId', e->>'transactionId', 'meterStopWh', e->'meterStopWh', 'reason', e->'reason'), at, received);
      END IF;
      results := results || jsonb_build_array(jsonb_build_object('unknownTransaction', v_session IS NULL));

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
        INSERT INTO error_events (event_id, charge_point_id, connector_id, error_code, info, vendor_error_code, status,
                                  occurred_at, received_at, source, component_variable)
        VALUES (e->>'eventId', cp, (e->>'connectorId')::integer, e->>'errorCode', e->>'info', NULL, e->>'status',
                at, received, e->>'source', e->>'componentVariable')
        ON CONFLICT (charge_point_id, connector_id, error_code) WHERE resolved_at IS NULL DO NOTHING;
      END IF;
      results := results || '[{}]'::jsonb;

    WHEN 'ErrorCleared' THEN
      UPDATE error_events SET resolved_at = at
       WHERE charge_point_id = cp AND connector_id = (e->>'connectorId')::integer AND resolved_at IS NULL
         AND source = e->>'source' AND occurred_at <= at
         AND (error_code = e->>'errorCode' OR component_variable = e->>'componentVariable');
      results := results || '[{}]'::jsonb;

    WHEN 'TransactionSeq' THEN
      -- OCPP 2.x TransactionEvent seqNo: a repeat (answer lost, charger resent) is recognised and skipped.
      INSERT INTO transaction_event_seq (charge_point_id, transaction_id, seq_no, received_at, message_key)
      VALUES (cp, e->>'transactionId', (e->>'seqNo')::integer, received, e->>'messageKey')
      ON CONFLICT DO NOTHING;
      GET DIAGNOSTICS v_count = ROW_COUNT;
      results := results || jsonb_build_array(jsonb_build_object('duplicate', v_count = 0));

    WHEN 'ConnectorType' THEN
      INSERT INTO connectors (charge_point_id, connector_id, evse_id, connector_type, status, status_at)
      VALUES (cp, (e->>'connectorId')::integer, (e->>'evseId')::integer, e->>'connectorType', 'Unknown', '-infinity')
      ON CONFLICT (charge_point_id, connector_id) DO UPDATE SET connector_type = excluded.connector_type;
      results := results || '[{}]'::jsonb;

    ELSE
      RAISE EXCEPTION 'dynamo_apply: unknown event type %', e->>'type';
    END CASE;
  END LOOP;
  RETURN results;
END $$;
