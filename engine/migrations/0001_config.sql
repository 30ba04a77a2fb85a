-- Named configuration objects, one row each; `body` is the object's JSON with secrets sealed.
CREATE TABLE config_objects (
    kind       TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    position   BIGINT NOT NULL,
    updated_at TEXT   NOT NULL,
    PRIMARY KEY (kind, name)
);

-- Singletons: the global settings document and the key check.
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Where realtime sync of each pipe resumes in the source changelog.
CREATE TABLE pipe_startpoints (
    pipe   TEXT PRIMARY KEY,
    body   TEXT NOT NULL,
    set_at TEXT NOT NULL
);
