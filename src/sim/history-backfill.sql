-- Plausible fleet history, generated set-based in the database (writing millions of events one by
-- one would take longer than the benchmark it feeds). Used by npm run bench:api and npm run demo
-- through src/sim/backfill.ts. Placeholders: :tenant, :days, :chargers, :sites, :site_prefix,
-- :charger_prefix. Shapes per docs/benchmarks.md: two connectors per charger, 3-10 sessions a day
-- (0.65 of ten 144-minute slots), about 3 disconnects and 2 faults a week; every charger ends offline.

SELECT setseed(0.42);

INSERT INTO sites (site_id, tenant_id, name)
SELECT :site_prefix || s, :tenant, 'Site ' || (s + 1) FROM generate_series(0, :sites - 1) s;

INSERT INTO chargers (charge_point_id, tenant_id, site_id, registered_at)
SELECT :charger_prefix || lpad(i::text, 5, '0'), :tenant, :site_prefix || (i % :sites), now() - (:days + 1) * interval '1 day'
  FROM generate_series(1, :chargers) i;

INSERT INTO charger_state (charge_point_id, ocpp_version, vendor, model, firmware_version, last_heartbeat, last_seen)
SELECT charge_point_id, '1.6', 'ABB', 'Terra AC', '3.4.1', now(), now() FROM chargers WHERE tenant_id = :tenant;

INSERT INTO connections (charge_point_id, node_id, ocpp_version, connected_at, last_heard_at, disconnected_at, disconnect_reason)
WITH d AS (
  SELECT c.charge_point_id AS cp, now() - :days * interval '1 day' + random() * (:days * interval '1 day') AS t,
         (1 + random() * 29) * interval '1 minute' AS g
    FROM chargers c, generate_series(1, greatest(1, :days * 3 / 7)) WHERE c.tenant_id = :tenant),
iv AS (
  SELECT cp, coalesce(lag(t + g) OVER w, now() - :days * interval '1 day') AS s, t AS e FROM d WINDOW w AS (PARTITION BY cp ORDER BY t)
  UNION ALL
  SELECT cp, least(max(t + g), now() - interval '1 minute'), now() FROM d GROUP BY cp)
SELECT cp, 'backfill', '1.6', s, e, e, CASE WHEN e >= now() THEN 'server_shutdown' ELSE 'liveness_timeout' END
  FROM iv WHERE e > s;

INSERT INTO sessions (charge_point_id, transaction_id, connector_id, id_tag, started_at, meter_start_wh, stopped_at,
                      meter_stop_wh, stop_reason, last_meter_wh, last_meter_at, received_at)
SELECT cp, nextval('ocpp16_transaction_ids')::text, 1 + (j % 2), '04' || upper(substr(md5('card' || floor(random() * 200)), 1, 12)), st, 0, st + dur,
       extract(epoch FROM dur) / 3600 * 7000, 'EVDisconnected', extract(epoch FROM dur) / 3600 * 7000, st + dur, st
  FROM (SELECT c.charge_point_id AS cp, j,
               date_trunc('day', now() - :days * interval '1 day') + d * interval '1 day' + j * interval '144 minutes' + random() * interval '30 minutes' AS st,
               (20 + random() * 70) * interval '1 minute' AS dur
          FROM chargers c, generate_series(0, :days - 1) d, generate_series(0, 9) j
         WHERE c.tenant_id = :tenant AND random() < 0.65) x
 WHERE st + dur < now();

INSERT INTO connector_status_intervals (charge_point_id, connector_id, status, started_at, ended_at)
SELECT charge_point_id, connector_id, 'Charging', started_at, stopped_at FROM sessions
UNION ALL
SELECT charge_point_id, connector_id, 'Available', stopped_at, lead(started_at) OVER (PARTITION BY charge_point_id, connector_id ORDER BY started_at) FROM sessions
UNION ALL
SELECT charge_point_id, connector_id, 'Available', now() - (:days + 1) * interval '1 day', min(started_at) FROM sessions GROUP BY 1, 2;

-- Faults on connector 0, one per slot of days/faults so they never overlap.
CREATE TEMP TABLE bench_faults AS
SELECT c.charge_point_id AS cp,
       now() - :days * interval '1 day' + (k - 1) * (:days * interval '1 day' / greatest(1, :days * 2 / 7))
         + random() * ((:days * interval '1 day' / greatest(1, :days * 2 / 7)) - interval '1 hour') AS t,
       (10 + random() * 50) * interval '1 minute' AS dur,
       (ARRAY['GroundFailure', 'ConnectorLockFailure', 'HighTemperature', 'OverCurrentFailure', 'WeakSignal'])[1 + floor(random() * 5)::int] AS code
  FROM chargers c, generate_series(1, greatest(1, :days * 2 / 7)) k WHERE c.tenant_id = :tenant;

INSERT INTO connector_status_intervals (charge_point_id, connector_id, status, started_at, ended_at)
SELECT cp, 0, 'Faulted', t, least(t + dur, now()) FROM bench_faults WHERE t < now()
UNION ALL
SELECT cp, 0, 'Available', coalesce(lag(t + dur) OVER (PARTITION BY cp ORDER BY t), now() - (:days + 1) * interval '1 day'), t FROM bench_faults
UNION ALL
SELECT cp, 0, 'Available', max(t + dur), NULL FROM bench_faults GROUP BY cp HAVING max(t + dur) < now();

-- Ids as ingest makes them (evt_ and a ULID: the time in ms, then 16 characters that are random
-- there and hashed here), and the kind of info text chargers put in StatusNotification.info.
INSERT INTO error_events (event_id, charge_point_id, connector_id, error_code, info, vendor_error_code, status, occurred_at, received_at, resolved_at)
SELECT 'evt_' || id.time_part || id.random_part, cp, 0, code,
       CASE code
         WHEN 'GroundFailure' THEN (ARRAY['RCD tripped: residual current ' || (20 + floor(random() * 20)) || ' mA AC',
                                          'DC leakage ' || (6 + floor(random() * 4)) || ' mA above limit',
                                          'Insulation resistance ' || (60 + floor(random() * 40)) || ' kOhm below limit'])[1 + floor(random() * 3)::int]
         WHEN 'ConnectorLockFailure' THEN (ARRAY['Lock motor did not reach locked position',
                                                 'Cable lock feedback mismatch on connector ' || (1 + floor(random() * 2)),
                                                 'Unlock failed after session end'])[1 + floor(random() * 3)::int]
         WHEN 'HighTemperature' THEN (ARRAY['Power module temperature ' || (82 + floor(random() * 12)) || ' C, output stopped',
                                            'Cabinet temperature ' || (58 + floor(random() * 8)) || ' C above limit',
                                            'Cable temperature ' || (70 + floor(random() * 10)) || ' C, charging suspended'])[1 + floor(random() * 3)::int]
         WHEN 'OverCurrentFailure' THEN 'Overcurrent on L' || (1 + floor(random() * 3)) || ': ' || (33 + floor(random() * 8)) || ' A for 5 s, limit 32 A'
         ELSE (ARRAY['Cellular signal weak: RSSI ' || (-115 + floor(random() * 10)) || ' dBm',
                     'Modem re-registered after ' || (30 + floor(random() * 200)) || ' s without network'])[1 + floor(random() * 2)::int]
       END,
       CASE code WHEN 'GroundFailure' THEN '0x0301' WHEN 'ConnectorLockFailure' THEN '0x0412' WHEN 'HighTemperature' THEN '0x0520'
                 WHEN 'OverCurrentFailure' THEN '0x0233' ELSE '0x0907' END,
       'Faulted', t, t, CASE WHEN t + dur < now() THEN t + dur END
  FROM bench_faults
 CROSS JOIN LATERAL (
   SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + ((floor(extract(epoch FROM t) * 1000)::bigint >> (5 * (9 - i))) & 31)::int, 1), '' ORDER BY i)
            FILTER (WHERE i < 10) AS time_part,
          string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + get_byte(decode(md5(cp || t::text), 'hex'), i) % 32, 1), '' ORDER BY i) AS random_part
     FROM generate_series(0, 15) i) id;

INSERT INTO connectors (charge_point_id, connector_id, status, error_code, status_at)
SELECT charge_point_id, k, 'Available', 'NoError', now() FROM chargers, generate_series(0, 2) k WHERE tenant_id = :tenant;

-- The status the fleet API reads (chargers.reported_status), as ingest would have kept it.
UPDATE chargers SET reported_status = dynamo_charger_status(charge_point_id) WHERE tenant_id = :tenant;

ANALYZE;
