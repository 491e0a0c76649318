-- OCPP 2.x transaction state lives with the session, not on a connection object, so a reconnect
-- (or another node) mid-transaction knows the EVSE and whether it is charging (TransactionEvent
-- chargingState, OCPP 2.0.1 E02/E06). charging_state_at keeps a late event from rolling it back.
ALTER TABLE sessions ADD COLUMN charging_state text;
ALTER TABLE sessions ADD COLUMN charging_state_at timestamptz;
-- Why a session's energy is left out of the energy figures (an implausible meter start), or NULL.
ALTER TABLE sessions ADD COLUMN energy_excluded text;

-- The version of each file of database functions (src/store/functions/) last installed, so a node
-- of an older build refuses to start instead of replacing newer functions with its own.
CREATE TABLE schema_functions (
  file         text PRIMARY KEY,
  version      integer NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now()
);
