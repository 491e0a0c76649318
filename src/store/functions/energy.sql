-- functions-version: 2
-- Energy of a session as every figure counts it (docs/metrics.md "Energy"), in one place: the
-- meter stop (or, while it runs, the last register reading) minus the meter start, never below
-- zero; NULL when either is unknown or the session's energy is excluded as implausible
-- (docs/ocpp.md "Meter plausibility"). Inlined by the planner: a plain expression.
CREATE OR REPLACE FUNCTION dynamo_session_energy_wh(p_meter_start_wh double precision, p_meter_stop_wh double precision,
  p_last_meter_wh double precision, p_energy_excluded text)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
  -- greatest() ignores a NULL argument: without the test, a missing reading would read as 0 Wh.
  SELECT CASE WHEN p_energy_excluded IS NULL AND p_meter_start_wh IS NOT NULL AND coalesce(p_meter_stop_wh, p_last_meter_wh) IS NOT NULL
              THEN greatest(coalesce(p_meter_stop_wh, p_last_meter_wh) - p_meter_start_wh, 0) END
$$;
