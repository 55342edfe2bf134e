-- Alerts, one row per id. Times are unix milliseconds (UTC); severity is the
-- rank, 0 = critical .. 4 = info, so "at or above" is `severity <= ?`.
CREATE TABLE alerts (
    id          TEXT PRIMARY KEY NOT NULL,
    site        TEXT NOT NULL,
    -- site lower-cased by the server (Unicode-aware), for case-insensitive filters
    site_key    TEXT NOT NULL,
    severity    INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 4),
    message     TEXT NOT NULL,
    host        TEXT,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'resolved')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    acked_by    TEXT,
    acked_at    INTEGER
);

CREATE INDEX alerts_by_status_site ON alerts (status, site_key, severity, created_at);
CREATE INDEX alerts_by_created ON alerts (created_at);

-- The last event's seq: rises by one per event, never goes back.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('seq', 0);
