-- functions-version: 1
-- Hourly rollups (migration 0012, docs/metrics.md "Rollups"): how they are filled and how history
-- changes reach them. Re-created on every migrate run (src/store/migrate.ts).
--
-- Watermarks. The refresher writes only hours that ended at least 15 minutes ago. A change to
-- history is "late" when it reaches back more than 5 minutes before its transaction began; every
-- late change to a charger with rollups is logged in rollup_dirty by the triggers below, which
-- queries read (they use no row from that point on) and the refresher applies (it recomputes from
-- there, and no further back). A change that is not late cannot touch an hour the refresher
-- writes unless its transaction began more than 10 minutes before the refresher's: ingest
-- transactions last milliseconds.

-- Microseconds covered by a multirange (NULL: none). A single expression, so the planner inlines it
-- (a function body with a FROM is called through the SQL-function executor, which cost more than
-- everything else a rollup query does); only a set of several ranges takes the aggregate.
CREATE OR REPLACE FUNCTION dynamo_us_ranges(p tstzmultirange) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(sum((extract(epoch FROM upper(r) - lower(r)) * 1000000)::bigint), 0)::bigint FROM unnest(p) AS r
$$;
CREATE OR REPLACE FUNCTION dynamo_us(p tstzmultirange) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p IS NULL OR isempty(p) THEN 0::bigint
              WHEN p = tstzmultirange(range_merge(p)) THEN (extract(epoch FROM upper(p) - lower(p)) * 1000000)::bigint
              ELSE dynamo_us_ranges(p) END
$$;

-- The UTC hour boundary at or before p, and at or after it. Both are single expressions that the
-- planner inlines into the queries (a function call per row cost about 1.5 µs; a fleet query makes
-- one per charger). That needs each body to call nothing more volatile than the function is
-- declared: date_bin is immutable arithmetic on the instant (hours from the epoch, a UTC hour),
-- while date_trunc('hour', p, 'UTC') and timestamptz + interval are stable, so the ceiling is
-- declared stable (the old immutable one, calling date_trunc, was never inlined). Timestamps have
-- microsecond resolution: p + 1 h − 1 µs is in the next hour exactly when p is not on the hour.
CREATE OR REPLACE FUNCTION dynamo_hour(p timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT date_bin(interval '1 hour', p, timestamptz '1970-01-01 00:00:00+00')
$$;
CREATE OR REPLACE FUNCTION dynamo_ceil_hour(p timestamptz) RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT date_bin(interval '1 hour', p + interval '59 minutes 59.999999 seconds', timestamptz '1970-01-01 00:00:00+00')
$$;

-- Logs a change to a charger's history from p_since on, when it is late and the charger has rollups.
CREATE OR REPLACE FUNCTION dynamo_rollup_touch(p_cp text, p_since timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_since < now() - interval '5 minutes' AND EXISTS (SELECT 1 FROM rollup_chargers WHERE charge_point_id = p_cp) THEN
    INSERT INTO rollup_dirty (charge_point_id, since) VALUES (p_cp, p_since);
  END IF;
END $$;

-- The earliest point a row change affects: where the old and new interval differ.
CREATE OR REPLACE FUNCTION dynamo_rollup_since(
  p_old_start timestamptz, p_old_end timestamptz, p_new_start timestamptz, p_new_end timestamptz, p_same_kind boolean)
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN NOT p_same_kind THEN least(p_old_start, p_new_start)
    ELSE least(CASE WHEN p_old_start IS DISTINCT FROM p_new_start THEN least(p_old_start, p_new_start) END,
               CASE WHEN p_old_end IS DISTINCT FROM p_new_end THEN least(coalesce(p_old_end, 'infinity'), coalesce(p_new_end, 'infinity')) END)
  END
$$;

CREATE OR REPLACE FUNCTION dynamo_rollup_connections_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM dynamo_rollup_touch(OLD.charge_point_id, CASE WHEN TG_OP = 'DELETE' THEN OLD.connected_at ELSE
      dynamo_rollup_since(OLD.connected_at, OLD.disconnected_at, NEW.connected_at, NEW.disconnected_at, OLD.charge_point_id = NEW.charge_point_id) END);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.charge_point_id <> NEW.charge_point_id) THEN
    PERFORM dynamo_rollup_touch(NEW.charge_point_id, NEW.connected_at);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION dynamo_rollup_intervals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM dynamo_rollup_touch(OLD.charge_point_id, CASE WHEN TG_OP = 'DELETE' THEN OLD.started_at ELSE
      dynamo_rollup_since(OLD.started_at, OLD.ended_at, NEW.started_at, NEW.ended_at,
        OLD.charge_point_id = NEW.charge_point_id AND OLD.connector_id = NEW.connector_id AND OLD.status = NEW.status) END);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.charge_point_id <> NEW.charge_point_id) THEN
    PERFORM dynamo_rollup_touch(NEW.charge_point_id, NEW.started_at);
  END IF;
  RETURN NULL;
END $$;

-- A charger is down when every one of its known connectors is: a connector seen for the first time
-- changes that for its whole history.
CREATE OR REPLACE FUNCTION dynamo_rollup_connectors_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' AND NEW.connector_id > 0 THEN
    PERFORM dynamo_rollup_touch(NEW.charge_point_id, '-infinity');
  ELSIF TG_OP = 'DELETE' AND OLD.connector_id > 0 THEN
    PERFORM dynamo_rollup_touch(OLD.charge_point_id, '-infinity');
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION dynamo_rollup_maintenance_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM dynamo_rollup_touch(OLD.charge_point_id, CASE WHEN TG_OP = 'DELETE' THEN OLD.scheduled_at ELSE
      dynamo_rollup_since(OLD.scheduled_at, OLD.completed_at, NEW.scheduled_at, NEW.completed_at, OLD.charge_point_id = NEW.charge_point_id) END);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.charge_point_id <> NEW.charge_point_id) THEN
    PERFORM dynamo_rollup_touch(NEW.charge_point_id, NEW.scheduled_at);
  END IF;
  RETURN NULL;
END $$;

-- last_heard_at is written every few seconds per charger and matters to no rollup: not watched.
CREATE OR REPLACE TRIGGER rollup_connections AFTER INSERT OR DELETE OR UPDATE OF charge_point_id, connected_at, disconnected_at
  ON connections FOR EACH ROW EXECUTE FUNCTION dynamo_rollup_connections_changed();
CREATE OR REPLACE TRIGGER rollup_intervals AFTER INSERT OR UPDATE OR DELETE
  ON connector_status_intervals FOR EACH ROW EXECUTE FUNCTION dynamo_rollup_intervals_changed();
CREATE OR REPLACE TRIGGER rollup_connectors AFTER INSERT OR DELETE
  ON connectors FOR EACH ROW EXECUTE FUNCTION dynamo_rollup_connectors_changed();
CREATE OR REPLACE TRIGGER rollup_maintenance AFTER INSERT OR UPDATE OR DELETE
  ON maintenance_events FOR EACH ROW EXECUTE FUNCTION dynamo_rollup_maintenance_changed();

-- One step of rollup maintenance, in the caller's transaction: applies the dirty log, starts
-- chargers new to the rollups, and writes up to p_hours hours for up to p_chargers chargers, up to
-- the hour before p_seal (never later than 15 minutes ago). Returns the hour rows written; 0 when
-- there was nothing to do (or another node is refreshing). The definitions are those of
-- src/fleet/uptime.ts and src/fleet/utilisation.ts, computed for the hours written.
CREATE OR REPLACE FUNCTION dynamo_rollup_refresh(p_seal timestamptz, p_chargers integer, p_hours integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_seal timestamptz := date_trunc('hour', least(p_seal, now() - interval '15 minutes'), 'UTC');
  v_new text[];
  v_rows integer := 0;
BEGIN
  IF NOT pg_try_advisory_xact_lock(742003) THEN
    RETURN 0;
  END IF;

  -- The dirty log: recompute from the earliest change, or from scratch if it predates the first hour.
  WITH d AS (DELETE FROM rollup_dirty RETURNING charge_point_id, since),
       m AS (SELECT charge_point_id, min(since) AS since FROM d GROUP BY 1)
  UPDATE rollup_chargers r
     SET first_hour = CASE WHEN m.since < r.first_hour THEN NULL ELSE r.first_hour END,
         rolled_until = CASE WHEN m.since < r.first_hour THEN NULL ELSE least(r.rolled_until, date_trunc('hour', m.since, 'UTC')) END
    FROM m WHERE r.charge_point_id = m.charge_point_id;

  -- Chargers new to the rollups are only registered in this step: the triggers of transactions
  -- running now cannot see them yet, so they are built from the next step on.
  WITH ins AS (
    INSERT INTO rollup_chargers (charge_point_id)
    SELECT c.charge_point_id FROM chargers c
     WHERE NOT EXISTS (SELECT 1 FROM rollup_chargers r WHERE r.charge_point_id = c.charge_point_id)
    RETURNING charge_point_id)
  SELECT coalesce(array_agg(charge_point_id), '{}') INTO v_new FROM ins;

  -- The first hour: that of the earliest thing known about the charger. The FILTER keeps PostgreSQL
  -- from answering the intervals' min() by walking the time index from the start until the charger
  -- turns up (its min/max rewrite, chosen on statistics older than the fleet): 10,000 buffers a
  -- charger, 6.7 s a step at 50,000 chargers (docs/benchmarks.md "50,000 chargers: two more plans that read the fleet").
  -- Without the rewrite it reads the charger's own intervals by its key.
  UPDATE rollup_chargers r SET first_hour = f.h, rolled_until = f.h
    FROM (SELECT r2.charge_point_id,
                 date_trunc('hour', least(c.registered_at,
                   (SELECT min(k.connected_at) FROM connections k WHERE k.charge_point_id = r2.charge_point_id),
                   (SELECT min(i.started_at) FILTER (WHERE true) FROM connector_status_intervals i WHERE i.charge_point_id = r2.charge_point_id),
                   (SELECT min(m.scheduled_at) FROM maintenance_events m WHERE m.charge_point_id = r2.charge_point_id)), 'UTC') AS h
            FROM rollup_chargers r2 JOIN chargers c USING (charge_point_id)
           WHERE r2.first_hour IS NULL AND NOT (r2.charge_point_id = ANY (v_new))
           LIMIT p_chargers) f
   WHERE r.charge_point_id = f.charge_point_id;

  WITH work AS (
    SELECT r.charge_point_id AS cp, r.first_hour AS f, r.rolled_until AS r0,
           least(v_seal, r.rolled_until + p_hours * interval '1 hour') AS r1
      FROM rollup_chargers r
     WHERE r.first_hour IS NOT NULL AND r.rolled_until < v_seal AND NOT (r.charge_point_id = ANY (v_new))
     ORDER BY r.rolled_until
     LIMIT p_chargers),
  online AS (
    SELECT w.cp, range_agg(tstzrange(k.connected_at, coalesce(k.disconnected_at, now()))) AS mr
      FROM work w JOIN connections k ON k.charge_point_id = w.cp
     WHERE coalesce(k.disconnected_at, 'infinity'::timestamptz) > w.r0 AND k.connected_at < w.r1
     GROUP BY 1),
  down_by_connector AS (
    SELECT w.cp, i.connector_id, range_agg(tstzrange(i.started_at, coalesce(i.ended_at, 'infinity'))) AS mr
      FROM work w JOIN connector_status_intervals i ON i.charge_point_id = w.cp
     WHERE i.status IN ('Faulted', 'Unavailable') AND coalesce(i.ended_at, 'infinity'::timestamptz) > w.r0 AND i.started_at < w.r1
     GROUP BY 1, 2),
  known AS (
    SELECT w.cp, count(*) AS n FROM work w JOIN connectors x ON x.charge_point_id = w.cp WHERE x.connector_id > 0 GROUP BY 1),
  all_down AS (
    SELECT cp, range_intersect_agg(mr) AS mr, count(*) AS n FROM down_by_connector WHERE connector_id > 0 GROUP BY 1),
  maint AS (
    SELECT w.cp, range_agg(tstzrange(m.scheduled_at, m.completed_at)) AS mr
      FROM work w JOIN maintenance_events m ON m.charge_point_id = w.cp
     WHERE m.completed_at IS NOT NULL AND m.completed_at > m.scheduled_at AND m.scheduled_at < w.r1 AND m.completed_at > w.r0
     GROUP BY 1),
  charging AS (
    -- An open interval runs to now (as in utilisation.ts), and never ends before it starts.
    SELECT w.cp, range_agg(tstzrange(i.started_at, coalesce(i.ended_at, greatest(i.started_at, now())))) AS mr
      FROM work w JOIN connector_status_intervals i ON i.charge_point_id = w.cp
     WHERE i.status = 'Charging' AND coalesce(i.ended_at, 'infinity'::timestamptz) > w.r0 AND i.started_at < w.r1
     GROUP BY 1),
  sets AS (
    SELECT w.cp, w.f, w.r0, w.r1, x.on_mr, x.down_mr, x.down_mr * coalesce(mt.mr, '{}') AS exc_mr, x.chg_mr
      FROM work w
      LEFT JOIN online o ON o.cp = w.cp
      LEFT JOIN down_by_connector c0 ON c0.cp = w.cp AND c0.connector_id = 0
      LEFT JOIN all_down a ON a.cp = w.cp
      LEFT JOIN known kn ON kn.cp = w.cp
      LEFT JOIN maint mt ON mt.cp = w.cp
      LEFT JOIN charging ch ON ch.cp = w.cp
     CROSS JOIN LATERAL (SELECT tstzmultirange(tstzrange(w.r0, w.r1)) AS win) ww
     CROSS JOIN LATERAL (SELECT
         coalesce(o.mr, '{}') * ww.win AS on_mr,
         ((ww.win - coalesce(o.mr, '{}')) + coalesce(c0.mr, '{}') + CASE WHEN a.n = kn.n THEN a.mr ELSE '{}'::tstzmultirange END) * ww.win AS down_mr,
         coalesce(o.mr, '{}') * coalesce(ch.mr, '{}') * ww.win AS chg_mr) x),
  -- Each range cut at the hours it crosses (linear in the ranges; intersecting every hour with
  -- the whole window's set would not be), then one row per hour of the window, empty or not.
  pieces AS (
    SELECT s.cp, m.kind, x.h, u.r * tstzrange(x.h, x.h + interval '1 hour') AS p
      FROM sets s
     CROSS JOIN LATERAL (VALUES ('on', s.on_mr), ('down', s.down_mr), ('exc', s.exc_mr), ('chg', s.chg_mr)) AS m(kind, mr)
     CROSS JOIN LATERAL unnest(m.mr) AS u(r)
     CROSS JOIN LATERAL generate_series(date_trunc('hour', lower(u.r), 'UTC'), upper(u.r) - interval '1 microsecond', interval '1 hour') AS x(h)),
  per_hour AS (
    SELECT cp, h,
           range_agg(p) FILTER (WHERE kind = 'on') AS on_h, range_agg(p) FILTER (WHERE kind = 'down') AS down_h,
           range_agg(p) FILTER (WHERE kind = 'exc') AS exc_h, range_agg(p) FILTER (WHERE kind = 'chg') AS chg_h,
           coalesce(sum((extract(epoch FROM upper(p) - lower(p)) * 1000000)::bigint) FILTER (WHERE kind = 'on'), 0) AS on_us,
           coalesce(sum((extract(epoch FROM upper(p) - lower(p)) * 1000000)::bigint) FILTER (WHERE kind = 'down'), 0) AS down_us,
           coalesce(sum((extract(epoch FROM upper(p) - lower(p)) * 1000000)::bigint) FILTER (WHERE kind = 'exc'), 0) AS exc_us,
           coalesce(sum((extract(epoch FROM upper(p) - lower(p)) * 1000000)::bigint) FILTER (WHERE kind = 'chg'), 0) AS chg_us
      FROM pieces WHERE NOT isempty(p) GROUP BY 1, 2),
  hours AS (
    SELECT s.cp, s.f, s.r0, g.h, ph.on_h, ph.down_h, ph.exc_h, ph.chg_h,
           coalesce(ph.on_us, 0) AS on_us, coalesce(ph.down_us, 0) AS down_us, coalesce(ph.exc_us, 0) AS exc_us, coalesce(ph.chg_us, 0) AS chg_us
      FROM sets s
     CROSS JOIN LATERAL generate_series(s.r0, s.r1 - interval '1 hour', interval '1 hour') AS g(h)
      LEFT JOIN per_hour ph ON ph.cp = s.cp AND ph.h = g.h),
  totals AS (
    SELECT h.cp, h.h, h.on_h, h.down_h, h.exc_h, h.chg_h,
           coalesce(p.online_us, 0) + sum(h.on_us) OVER w AS online_us,
           coalesce(p.down_us, 0) + sum(h.down_us) OVER w AS down_us,
           coalesce(p.excluded_us, 0) + sum(h.exc_us) OVER w AS excluded_us,
           coalesce(p.charging_us, 0) + sum(h.chg_us) OVER w AS charging_us
      FROM hours h
      LEFT JOIN rollup_hours p ON p.hour = h.r0 - interval '1 hour' AND p.charge_point_id = h.cp AND h.r0 > h.f
    WINDOW w AS (PARTITION BY h.cp ORDER BY h.h)),
  written AS (
    INSERT INTO rollup_hours (hour, charge_point_id, online_us, down_us, excluded_us, charging_us, online_mr, down_mr, excluded_mr, charging_mr)
    SELECT h, cp, online_us, down_us, excluded_us, charging_us, on_h, down_h, exc_h, chg_h FROM totals
    ON CONFLICT (hour, charge_point_id) DO UPDATE SET
      online_us = excluded.online_us, down_us = excluded.down_us, excluded_us = excluded.excluded_us, charging_us = excluded.charging_us,
      online_mr = excluded.online_mr, down_mr = excluded.down_mr, excluded_mr = excluded.excluded_mr, charging_mr = excluded.charging_mr
    RETURNING charge_point_id, hour),
  upto AS (SELECT charge_point_id, max(hour) + interval '1 hour' AS u, count(*) AS n FROM written GROUP BY 1),
  moved AS (
    UPDATE rollup_chargers r SET rolled_until = upto.u FROM upto WHERE r.charge_point_id = upto.charge_point_id RETURNING upto.n)
  SELECT coalesce(sum(n), 0)::integer INTO v_rows FROM moved;
  RETURN v_rows;
END $$;
