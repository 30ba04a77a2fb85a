-- The log of changes: every change the engine handled (resync and realtime), whatever came of
-- it, kept for the retention period. `id` orders rows by time (an RFC 3339 time with
-- microseconds, then a sequence).
CREATE TABLE sync_log (
    id          TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    pipe        TEXT NOT NULL,
    phase       TEXT NOT NULL,
    dn          TEXT NOT NULL,
    endpoint    TEXT,
    resource_id TEXT,
    outcome     TEXT NOT NULL,
    summary     TEXT NOT NULL,
    duration_ms BIGINT NOT NULL
);
