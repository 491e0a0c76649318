-- The ingest functions (dynamo_apply and its helpers) are code, not schema: they live in
-- src/store/functions/ and are re-created (CREATE OR REPLACE) by every migrate run, after the
-- migrations, so there is always exactly one current definition. This version number is kept
-- so databases that applied the first definition stay in sequence.
SELECT 1;
