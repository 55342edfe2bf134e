-- When each source of --sources-file was last heard from (unix
-- milliseconds), so that a restart still knows a silent source.
CREATE TABLE sources (
    name         TEXT PRIMARY KEY NOT NULL,
    last_seen_at BIGINT NOT NULL
);
