-- Write-back to the source. Times are unix milliseconds, as in 0001.

-- The sources whose alerts are written back (an api_url in the sources
-- file) and their kind, set by the server from that file at start and on
-- SIGHUP, so that an action's transaction knows whether to queue one.
CREATE TABLE writeback_sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL
);

-- The outbox: one row per action to tell a source, written in the action's
-- own transaction and sent by a worker that claims due rows.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id   TEXT NOT NULL,
    source     TEXT NOT NULL,
    -- ack | unack | note | resolve
    action     TEXT NOT NULL,
    -- Who acted: a user's email, a source's name or noc-server.
    actor      TEXT NOT NULL,
    -- The ack's note or the note's text.
    note       TEXT,
    -- The ack's expiry.
    expires_at INTEGER,
    -- The alert's labels when it was queued (a JSON object): the Zabbix
    -- event id, the labels of an Alertmanager silence.
    labels     TEXT NOT NULL,
    -- pending | done | failed
    state      TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    -- When to try next; a claim moves it ahead by the claim's lease, so a
    -- worker that dies mid-send leaves its rows to another after it.
    next_at    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_error TEXT,
    -- What the source made of it: an Alertmanager silence's id, cleared
    -- once the silence is deleted.
    remote_id  TEXT
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';
CREATE INDEX outbox_by_alert ON outbox (alert_id, id);
