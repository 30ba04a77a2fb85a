-- Which SCIM resource each source entry became, by the entry's stable id (entryUUID /
-- nsUniqueId): how deletes and renames find their resource.
CREATE TABLE synced_resources (
    pipe       TEXT NOT NULL,
    entry_id   TEXT NOT NULL,
    dn         TEXT NOT NULL,
    endpoint   TEXT NOT NULL,
    scim_id    TEXT NOT NULL,
    class      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (pipe, entry_id)
);

-- Where realtime sync of a pipe has got to (cleared when a new startpoint is set).
CREATE TABLE pipe_cursors (
    pipe       TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Whether realtime sync of a pipe should run, and its last reported status.
CREATE TABLE pipe_realtime (
    pipe       TEXT PRIMARY KEY,
    started    BIGINT NOT NULL,
    status     TEXT,
    updated_at TEXT NOT NULL
);
