-- The seqNo guard of OCPP 2.x TransactionEvents (0005, 0006) had a row for every TransactionEvent ever
-- received and nothing pruned it: 3,670 GiB a year for 100,000 chargers at one message a minute
-- (docs/benchmarks.md, "Costs for 100,000 chargers, measured"). A retransmission comes after a lost
-- answer, before the charger sends the transaction's next message, so a guard row is needed for days,
-- not forever: rows past DYNAMO_TRANSACTION_GUARD_DAYS are deleted from the old end, found by this key
-- (src/store/transaction-guard.ts). One more index entry per TransactionEvent is its cost.
CREATE INDEX IF NOT EXISTS transaction_event_seq_received ON transaction_event_seq (received_at);
