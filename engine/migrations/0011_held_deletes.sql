-- Deletion safety. Deletes a pipe applied, by time, for its hourly limit (rows older than an
-- hour are pruned as new ones come).
CREATE TABLE applied_deletes (
    pipe TEXT NOT NULL,
    at   TEXT NOT NULL
);
CREATE INDEX applied_deletes_by_pipe ON applied_deletes (pipe, at);

-- Deletes held back by the limit until an admin approves or discards them: one per resource
-- (a newer one for the same resource replaces it). `id` orders them by time.
CREATE TABLE held_deletes (
    id          TEXT PRIMARY KEY,
    pipe        TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    held_at     TEXT NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (pipe, endpoint, resource_id)
);
