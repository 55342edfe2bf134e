-- Alerts, one row per id. Times are unix milliseconds (UTC); severity is the
-- rank, 0 = critical .. 4 = info, so "at or above" is `severity <= $1`.
CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    site        TEXT NOT NULL,
    -- site lower-cased by the server (Unicode-aware), for case-insensitive filters
    site_key    TEXT NOT NULL,
    severity    BIGINT NOT NULL CHECK (severity BETWEEN 0 AND 4),
    message     TEXT NOT NULL,
    host        TEXT,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'resolved')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    acked_by    TEXT,
    acked_at    BIGINT
);

CREATE INDEX alerts_by_status_site ON alerts (status, site_key, severity, created_at);
CREATE INDEX alerts_by_created ON alerts (created_at);

-- The last event's seq. Writers lock this row for their whole transaction,
-- so seqs are gapless and commit in seq order across every instance.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('seq', 0);

-- Every committed event, read by each instance's follower in seq order
-- after a NOTIFY on channel noc_events. Old events are pruned.
CREATE TABLE events (
    seq     BIGINT PRIMARY KEY,
    payload TEXT NOT NULL
);
