-- What a batch-level insert of meter samples would save against one insert per message
-- (docs/benchmarks.md "Fewer statements for a meter value: two shapes measured, neither kept").
-- psql -U postgres -h 127.0.0.1 -f bench/meter-sample-insert.sql
-- Makes and drops its own database, sample_insert_bench. Both functions build the same 20,000
-- messages of two samples each; one inserts each message's samples as ingest does today, the
-- other keeps the messages and inserts all their samples in one statement at the end (each
-- message's samples with the same session ids in both, so the indexes see the same keys). The
-- table has the shape, the indexes and the key to its charger that meter_samples has.
DROP DATABASE IF EXISTS sample_insert_bench;
CREATE DATABASE sample_insert_bench;
\c sample_insert_bench
CREATE TABLE charger (id text PRIMARY KEY);
INSERT INTO charger SELECT 'cp' || g FROM generate_series(1, 2000) g;
-- The columns and indexes of meter_samples (migrations 0002, 0004): no primary key.
CREATE TABLE sample (
  cp text NOT NULL REFERENCES charger ON DELETE CASCADE, session_id bigint, connector_id integer NOT NULL,
  sampled_at timestamptz NOT NULL, measurand text NOT NULL, phase text, value double precision NOT NULL, unit text NOT NULL, context text);
CREATE INDEX ON sample (session_id, sampled_at);
CREATE INDEX ON sample (cp, sampled_at);
CREATE INDEX ON sample (session_id, sampled_at DESC) WHERE measurand = 'Energy.Active.Import.Register' AND phase IS NULL;

CREATE FUNCTION message_of(i integer) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('cp', 'cp' || (i % 2000 + 1), 'samples', jsonb_build_array(
    jsonb_build_object('sampledAt', now(), 'measurand', 'Energy.Active.Import.Register', 'value', i, 'unit', 'Wh'),
    jsonb_build_object('sampledAt', now(), 'measurand', 'Power.Active.Import', 'value', i, 'unit', 'W')))
$$;

CREATE FUNCTION insert_per_message(n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE e jsonb;
BEGIN
  FOR i IN 1..n LOOP
    e := message_of(i);
    INSERT INTO sample (cp, session_id, connector_id, sampled_at, measurand, phase, value, unit, context)
    SELECT e->>'cp', i, 1, (x->>'sampledAt')::timestamptz, x->>'measurand', x->>'phase', (x->>'value')::double precision, x->>'unit', x->>'context'
      FROM jsonb_array_elements(e->'samples') x;
  END LOOP;
END $$;

CREATE FUNCTION insert_per_batch(n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE kept jsonb[] := '{}';
BEGIN
  FOR i IN 1..n LOOP
    kept := array_append(kept, message_of(i));
  END LOOP;
  INSERT INTO sample (cp, session_id, connector_id, sampled_at, measurand, phase, value, unit, context)
  SELECT m->>'cp', i, 1, (x->>'sampledAt')::timestamptz, x->>'measurand', x->>'phase', (x->>'value')::double precision, x->>'unit', x->>'context'
    FROM unnest(kept) WITH ORDINALITY AS k(m, i), jsonb_array_elements(m->'samples') x;
END $$;

\timing on
SELECT insert_per_message(20000);
SELECT insert_per_batch(20000);
SELECT insert_per_message(20000);
SELECT insert_per_batch(20000);
SELECT insert_per_message(20000);
SELECT insert_per_batch(20000);
\timing off
\c postgres
DROP DATABASE sample_insert_bench;
