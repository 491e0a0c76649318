-- sessions_stopped (0004) indexed every session by its end, the open ones too (stopped_at NULL), so
-- it was one of three indexes that could answer "this connector's open session" (stopped_at IS
-- NULL). Ingest's statements are planned per connection, and on tables not yet analysed the three
-- cost the same to a hundredth: a connection that picked this one walked every open session of the
-- fleet at each session start, 41-93 ms each at 19,000 chargers, and its ingest lane fell behind by
-- seconds (seen with auto_explain; docs/benchmarks.md "An open session found by walking all of
-- them"). sessions_ended holds the ended sessions only. Its one reader, the summary's sessions ended
-- today (stopped_at >= midnight), implies NOT NULL, so it uses it; a session's start adds no entry.
-- A new name, so that a large database can build it and drop the old one beforehand without
-- blocking writes (docs/operations.md, rolling upgrades); this migration then finds both done.
CREATE INDEX IF NOT EXISTS sessions_ended ON sessions (stopped_at) WHERE stopped_at IS NOT NULL;
DROP INDEX IF EXISTS sessions_stopped;
