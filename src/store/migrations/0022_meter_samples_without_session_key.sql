-- A meter sample's session is always one of the sample's own charger (ingest finds it by charger and
-- transaction, in the transaction that writes the sample), and sessions are deleted only with their
-- charger, whose own cascade already takes every sample by meter_samples_charger. So the foreign key
-- to sessions guarded nothing, and it cost every sample a lookup and a row lock on its session:
-- about 6 % of the database's CPU and 37 WAL bytes a message of the OCPP 1.6 bench cycle
-- (docs/benchmarks.md "A meter sample's key to its session"). The key to chargers stays.
ALTER TABLE meter_samples DROP CONSTRAINT IF EXISTS meter_samples_session_id_fkey;
