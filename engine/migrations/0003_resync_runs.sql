-- Finished resyncs (from the console or the CLI): when, how, and the final counts.
CREATE TABLE resync_runs (
    id          TEXT PRIMARY KEY,
    pipe        TEXT NOT NULL,
    body        TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE INDEX resync_runs_by_pipe ON resync_runs (pipe, finished_at);
