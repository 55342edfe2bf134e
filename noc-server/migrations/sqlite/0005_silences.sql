-- Silences: matching alerts are hidden from screens between starts_at and
-- ends_at (unix milliseconds). Deleting one sets ends_at to the time of
-- deletion (and starts_at too, for one still pending): it stays listed.
CREATE TABLE silences (
    id         TEXT PRIMARY KEY NOT NULL,
    -- The matchers as posted: a JSON array of {"name", "op", "value"}.
    matchers   TEXT NOT NULL,
    -- The site groups the matchers name, expanded when the silence was
    -- made: a JSON object of lower-cased group name -> sites.
    site_groups TEXT NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    comment    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
-- Live silences (ends_at ahead) are read by every write's check.
CREATE INDEX silences_by_end ON silences (ends_at);

-- Rises whenever a silence is made or ended, so that every instance's
-- write path knows when to read the live silences again.
INSERT INTO counters (name, value) VALUES ('silences', 0);
