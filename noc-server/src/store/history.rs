//! An alert's history: its rows are written a batch at a time, in one
//! statement at the end of the writer's transaction (a statement per event
//! cost a round trip to the database each), and read an alert at a time.

use chrono::DateTime;
use noc_shared::{EventKind, HistoryEntry};
use serde::Serialize;

use super::StoreError;

/// SQLite's insert of the rows [`to_json`] gives, one statement whatever
/// their number (the same text every time, so it is prepared once).
pub const INSERT_SQLITE: &str = "INSERT INTO history (seq, alert_id, event, at, actor, reason, note, changes) \
     SELECT json_extract(value, '$.seq'), json_extract(value, '$.alert_id'), \
     json_extract(value, '$.event'), json_extract(value, '$.at'), json_extract(value, '$.actor'), \
     json_extract(value, '$.reason'), json_extract(value, '$.note'), json_extract(value, '$.changes') \
     FROM json_each($1)";

/// PostgreSQL's insert of the rows [`to_json`] gives.
pub const INSERT_POSTGRES: &str = "INSERT INTO history (seq, alert_id, event, at, actor, reason, note, changes) \
     SELECT seq, alert_id, event, at, actor, reason, note, changes \
     FROM json_to_recordset($1::json) AS h(seq BIGINT, alert_id TEXT, event TEXT, at BIGINT, \
     actor TEXT, reason TEXT, note TEXT, changes TEXT)";

/// A history row as the insert reads it.
#[derive(Serialize)]
struct NewRow<'a> {
    seq: i64,
    alert_id: &'a str,
    event: &'a str,
    at: i64,
    actor: &'a str,
    reason: Option<&'a str>,
    note: Option<&'a str>,
    /// A JSON object of field -> [before, after], as text.
    changes: String,
}

/// `entries` (each with its alert's id) as the one parameter of
/// [`INSERT_SQLITE`] or [`INSERT_POSTGRES`].
pub fn to_json(entries: &[(String, HistoryEntry)]) -> String {
    let rows: Vec<NewRow<'_>> = entries
        .iter()
        .map(|(alert_id, entry)| NewRow {
            seq: i64::try_from(entry.seq).unwrap_or(i64::MAX),
            alert_id,
            event: entry.event.as_str(),
            at: entry.at.timestamp_millis(),
            actor: &entry.by,
            reason: entry.reason.map(|r| r.as_str()),
            note: entry.note.as_deref(),
            // A map of JSON values always serializes.
            changes: serde_json::to_string(&entry.changes).unwrap_or_else(|_| "{}".into()),
        })
        .collect();
    // Strings and numbers always serialize.
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into())
}

/// A row of `history` as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub seq: i64,
    pub event: String,
    pub at: i64,
    pub actor: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    /// A JSON object of field -> [before, after].
    pub changes: String,
}

impl HistoryRow {
    /// The entry of alert `id`'s history this row holds.
    pub fn into_entry(self, id: &str) -> Result<HistoryEntry, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt {
            id: format!("{id} history {}", self.seq),
            what: what.to_owned(),
        };
        Ok(HistoryEntry {
            seq: u64::try_from(self.seq).map_err(|_| corrupt("seq"))?,
            event: EventKind::from_name(&self.event).ok_or_else(|| corrupt("event"))?,
            at: DateTime::from_timestamp_millis(self.at).ok_or_else(|| corrupt("at"))?,
            by: self.actor,
            note: self.note,
            changes: serde_json::from_str(&self.changes).map_err(|_| corrupt("changes"))?,
            reason: self
                .reason
                .map(|r| serde_json::from_value(serde_json::Value::String(r)))
                .transpose()
                .map_err(|_| corrupt("reason"))?,
        })
    }
}
