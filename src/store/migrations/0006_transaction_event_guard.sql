-- A TransactionEvent's changes carry the key of the message that claimed its seqNo, so they are
-- applied in the same commit as the claim and skipped if another copy claimed it first.
ALTER TABLE transaction_event_seq ADD COLUMN message_key text;
