-- Part two of the alert: its longer text, link, labels, counts and clocks,
-- and what only the server needs: the last ttl, the last applied `at` and
-- the owning source. Times are unix milliseconds, as in 0001.
ALTER TABLE alerts ADD COLUMN description TEXT;
ALTER TABLE alerts ADD COLUMN url TEXT;
-- A JSON object of string values.
ALTER TABLE alerts ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE alerts ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
-- NULL for alerts stored before this column: read as updated_at.
ALTER TABLE alerts ADD COLUMN last_seen_at INTEGER;
ALTER TABLE alerts ADD COLUMN expires_at INTEGER;
ALTER TABLE alerts ADD COLUMN ttl_ms INTEGER;
ALTER TABLE alerts ADD COLUMN last_at INTEGER;
ALTER TABLE alerts ADD COLUMN ack_note TEXT;
ALTER TABLE alerts ADD COLUMN ack_expires_at INTEGER;
ALTER TABLE alerts ADD COLUMN silenced_by TEXT;
ALTER TABLE alerts ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN notes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN writeback_state TEXT;
ALTER TABLE alerts ADD COLUMN writeback_error TEXT;
ALTER TABLE alerts ADD COLUMN owner TEXT;

-- The clock looks for the next active alert due to expire or whose ack
-- lapses; only alerts with such a time are indexed.
CREATE INDEX alerts_expiring ON alerts (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX alerts_ack_expiring ON alerts (ack_expires_at) WHERE ack_expires_at IS NOT NULL;

CREATE TABLE notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id   TEXT NOT NULL,
    author     TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notes_by_alert ON notes (alert_id, id);

-- One row per event, written in the event's transaction. `actor` is the
-- API's `by`; `changes` a JSON object of field -> [before, after].
CREATE TABLE history (
    seq      INTEGER PRIMARY KEY NOT NULL,
    alert_id TEXT NOT NULL,
    event    TEXT NOT NULL,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    reason   TEXT,
    note     TEXT,
    changes  TEXT NOT NULL
);
CREATE INDEX history_by_alert ON history (alert_id, seq);
