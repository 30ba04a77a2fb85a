-- Which `scimsync serve` instance runs a pipe's realtime sync. A lease lasts until
-- `expires_ms` (milliseconds since the epoch, by the database's clock) unless its holder
-- renews it; an expired lease may be taken by another instance.
CREATE TABLE pipe_leases (
    pipe        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    acquired_ms BIGINT NOT NULL
);
