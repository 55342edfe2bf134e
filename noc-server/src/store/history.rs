//! An alert's history as read back; its rows are written a batch at a
//! time, at the end of the writer's transaction (`store::batch`).

use chrono::DateTime;
use noc_shared::{EventKind, HistoryEntry};

use super::StoreError;

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
