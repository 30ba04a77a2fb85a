-- Operations that could not be applied, kept for inspection and retry.
-- `body` is the whole record as JSON (source entry or change, request sent, response).
CREATE TABLE rejected_operations (
    id         TEXT PRIMARY KEY,
    pipe       TEXT NOT NULL,
    phase      TEXT NOT NULL,
    dn         TEXT NOT NULL,
    operation  TEXT NOT NULL,
    reason     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'open'
);
CREATE INDEX rejected_operations_by_pipe ON rejected_operations (pipe, created_at);
