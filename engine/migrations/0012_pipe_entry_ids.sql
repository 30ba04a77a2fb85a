-- Which attribute a pipe's correlations (synced_resources.entry_id) are keyed by: the one its
-- source's changelog records (entryUUID, nsUniqueId, or dn). A pipe without a row was written
-- before this was decided, when resync and realtime could key one entry by different ids: its
-- correlations are re-keyed once, then the row is written.
CREATE TABLE pipe_entry_ids (
    pipe       TEXT PRIMARY KEY,
    attribute  TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
