-- functions-version: 1
-- The raw OCPP message log's partitions (migration 0011). Re-created by every migrate run.
-- Raise functions-version whenever a change here must not be undone by an older build.

-- Makes the partition of one UTC day if it does not exist. Nodes may race for the same day:
-- the advisory lock makes the check and the CREATE one step.
CREATE OR REPLACE FUNCTION dynamo_message_log_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  name text := 'ocpp_messages_p' || to_char(day, 'YYYYMMDD');
  lo timestamptz := (day::timestamp AT TIME ZONE 'UTC');
BEGIN
  IF to_regclass(name) IS NOT NULL THEN RETURN name; END IF;
  PERFORM pg_advisory_xact_lock(742002);
  IF to_regclass(name) IS NULL THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF ocpp_messages FOR VALUES FROM (%L) TO (%L)', name, lo, lo + interval '1 day');
  END IF;
  RETURN name;
END $$;

-- Drops every partition whose whole day ends at or before `keep_from` (retention): a whole
-- table goes, no rows are deleted. Returns the names dropped.
CREATE OR REPLACE FUNCTION dynamo_message_log_drop_before(keep_from timestamptz) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
  p record;
  dropped text[] := '{}';
BEGIN
  PERFORM pg_advisory_xact_lock(742002);
  FOR p IN
    SELECT c.relname FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class parent ON parent.oid = i.inhparent
     WHERE parent.relname = 'ocpp_messages' AND c.relname ~ '^ocpp_messages_p[0-9]{8}$'
     ORDER BY c.relname
  LOOP
    IF (to_date(substr(p.relname, 16), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC') + interval '1 day' <= keep_from THEN
      EXECUTE format('DROP TABLE %I', p.relname);
      dropped := dropped || p.relname::text;
    END IF;
  END LOOP;
  RETURN dropped;
END $$;
