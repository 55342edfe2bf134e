//! What both SQL backends share: the row shape of an alert, its conversion,
//! the upsert and the filter clause. Placeholders are `$N`, which
//! PostgreSQL and SQLite both read.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use noc_shared::{Alert, Severity, SiteFilter, Status, Writeback, WritebackState};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::StoreError;
use crate::change::StoredAlert;
use crate::change::flap::Flap;

/// The columns of `alerts` that [`AlertRow`] holds, in its order.
const FIELDS: &[&str] = &[
    "id",
    "site",
    "severity",
    "message",
    "host",
    "source",
    "status",
    "created_at",
    "updated_at",
    "resolved_at",
    "acked_by",
    "acked_at",
    "description",
    "url",
    "labels",
    "occurrences",
    "last_seen_at",
    "expires_at",
    "ttl_ms",
    "last_at",
    "ack_note",
    "ack_expires_at",
    "silenced_by",
    "flapping",
    "notes",
    "writeback_state",
    "writeback_error",
    "owner",
    "flap_resolves",
    "flap_changed_at",
];

/// The columns of `alerts`, in [`AlertRow`]'s order.
pub static COLUMNS: LazyLock<String> = LazyLock::new(|| FIELDS.join(", "));

/// The head of a multi-row upsert of `alerts`: [`FIELDS`] then `site_key`;
/// the rows' VALUES and [`UPSERT_UPDATE`] follow.
pub static INSERT_ALERTS: LazyLock<String> =
    LazyLock::new(|| format!("INSERT INTO alerts ({}, site_key) ", *COLUMNS));

/// The conflict clause of an upsert of `alerts`: every column replaced.
pub static UPSERT_UPDATE: LazyLock<String> = LazyLock::new(|| {
    let updates: Vec<String> = FIELDS
        .iter()
        .skip(1)
        .chain(&["site_key"])
        .map(|f| format!("{f} = excluded.{f}"))
        .collect();
    format!(" ON CONFLICT (id) DO UPDATE SET {}", updates.join(", "))
});

/// The row counts of the multi-row statements: `n` rows are written as
/// the fewest of these (one per bit of `n` under 256), so that a backend
/// prepares eight statement texts, not one per count; 128 rows of 32 binds
/// stay well within both backends' limits.
const ROWS_AT_ONCE: [usize; 8] = [128, 64, 32, 16, 8, 4, 2, 1];

/// `items` cut into runs of [`ROWS_AT_ONCE`] lengths, longest first.
pub fn in_chunks<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    while !items.is_empty() {
        let size = ROWS_AT_ONCE
            .into_iter()
            .find(|&n| n <= items.len())
            .unwrap_or(1);
        let (chunk, rest) = items.split_at(size);
        chunks.push(chunk);
        items = rest;
    }
    chunks
}

/// An alert as stored: times in unix milliseconds, severity as its rank
/// (0 = critical), so that "at or above" is `severity <= rank`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRow {
    pub id: String,
    pub site: String,
    pub severity: i64,
    pub message: String,
    pub host: Option<String>,
    pub source: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    pub acked_by: Option<String>,
    pub acked_at: Option<i64>,
    pub description: Option<String>,
    pub url: Option<String>,
    /// A JSON object of string values.
    pub labels: String,
    pub occurrences: i64,
    pub last_seen_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub ttl_ms: Option<i64>,
    pub last_at: Option<i64>,
    pub ack_note: Option<String>,
    pub ack_expires_at: Option<i64>,
    pub silenced_by: Option<String>,
    pub flapping: bool,
    pub notes: i64,
    pub writeback_state: Option<String>,
    pub writeback_error: Option<String>,
    pub owner: Option<String>,
    /// A JSON array of unix milliseconds, oldest first.
    pub flap_resolves: Option<String>,
    pub flap_changed_at: Option<i64>,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl From<&StoredAlert> for AlertRow {
    fn from(stored: &StoredAlert) -> Self {
        let a = &stored.alert;
        AlertRow {
            id: a.id.clone(),
            site: a.site.clone(),
            severity: rank(a.severity),
            message: a.message.clone(),
            host: a.host.clone(),
            source: a.source.clone(),
            status: a.status.as_str().to_owned(),
            created_at: ms(a.created_at),
            updated_at: ms(a.updated_at),
            resolved_at: a.resolved_at.map(ms),
            acked_by: a.acked_by.clone(),
            acked_at: a.acked_at.map(ms),
            description: a.description.clone(),
            url: a.url.clone(),
            // A map of strings always serializes.
            labels: serde_json::to_string(&a.labels).unwrap_or_else(|_| "{}".into()),
            occurrences: i64::from(a.occurrences),
            last_seen_at: Some(ms(a.last_seen_at)),
            expires_at: a.expires_at.map(ms),
            ttl_ms: stored
                .ttl
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            last_at: stored.last_at.map(ms),
            ack_note: a.ack_note.clone(),
            ack_expires_at: a.ack_expires_at.map(ms),
            silenced_by: a.silenced_by.clone(),
            flapping: a.flapping,
            notes: i64::from(a.notes),
            writeback_state: a.writeback.as_ref().map(|w| w.state.as_str().to_owned()),
            writeback_error: a.writeback.as_ref().and_then(|w| w.error.clone()),
            owner: stored.owner.clone(),
            flap_resolves: flap_resolves(&stored.flap.resolves),
            flap_changed_at: stored.flap.changed_at.map(ms),
        }
    }
}

fn flap_resolves(times: &[DateTime<Utc>]) -> Option<String> {
    if times.is_empty() {
        return None;
    }
    let ms: Vec<i64> = times.iter().copied().map(ms).collect();
    serde_json::to_string(&ms).ok()
}

impl TryFrom<AlertRow> for StoredAlert {
    type Error = StoreError;

    fn try_from(row: AlertRow) -> Result<Self, StoreError> {
        let id = row.id.clone();
        let corrupt = |what: &str| StoreError::Corrupt {
            id: id.clone(),
            what: what.to_owned(),
        };
        let time = |ms: i64| {
            DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| corrupt("time out of range"))
        };
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        let severity = usize::try_from(row.severity)
            .ok()
            .and_then(|r| Severity::ALL.get(r).copied())
            .ok_or_else(|| corrupt("severity"))?;
        let status = match row.status.as_str() {
            "active" => Status::Active,
            "resolved" => Status::Resolved,
            _ => return Err(corrupt("status")),
        };
        let writeback = match row.writeback_state.as_deref() {
            None => None,
            Some(state) => Some(Writeback {
                state: match state {
                    "pending" => WritebackState::Pending,
                    "done" => WritebackState::Done,
                    "failed" => WritebackState::Failed,
                    _ => return Err(corrupt("writeback_state")),
                },
                error: row.writeback_error.clone(),
            }),
        };
        let labels = serde_json::from_str(&row.labels).map_err(|_| corrupt("labels"))?;
        let resolves: Vec<i64> = match &row.flap_resolves {
            Some(json) => serde_json::from_str(json).map_err(|_| corrupt("flap_resolves"))?,
            None => Vec::new(),
        };
        let flap = Flap {
            flapping: row.flapping,
            resolves: resolves.into_iter().map(time).collect::<Result<_, _>>()?,
            changed_at: row.flap_changed_at.map(time).transpose()?,
        };
        let created_at = time(row.created_at)?;
        let updated_at = time(row.updated_at)?;
        let alert = Alert {
            status,
            updated_at,
            resolved_at: row.resolved_at.map(time).transpose()?,
            acked_at: row.acked_at.map(time).transpose()?,
            description: row.description,
            url: row.url,
            labels,
            occurrences: count(row.occurrences),
            last_seen_at: row
                .last_seen_at
                .map(time)
                .transpose()?
                .unwrap_or(updated_at),
            expires_at: row.expires_at.map(time).transpose()?,
            ack_note: row.ack_note,
            ack_expires_at: row.ack_expires_at.map(time).transpose()?,
            silenced_by: row.silenced_by,
            flapping: row.flapping,
            notes: count(row.notes),
            writeback,
            host: row.host,
            acked_by: row.acked_by,
            ..Alert::new(
                row.id,
                row.site,
                severity,
                row.message,
                row.source,
                created_at,
            )
        };
        Ok(StoredAlert {
            alert,
            ttl: row
                .ttl_ms
                .and_then(|ms| u64::try_from(ms).ok())
                .map(Duration::from_millis),
            last_at: row.last_at.map(time).transpose()?,
            owner: row.owner,
            flap,
        })
    }
}

/// Converts fetched rows, in order.
pub fn alerts(rows: Vec<AlertRow>) -> Result<Vec<Alert>, StoreError> {
    rows.into_iter()
        .map(|row| StoredAlert::try_from(row).map(|s| s.alert))
        .collect()
}

pub fn rank(severity: Severity) -> i64 {
    severity.rank() as i64
}

/// A row count as SQL wants it.
pub fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `SELECT <columns> FROM alerts WHERE <filter>`, ready for more `AND`s.
pub fn select_matching<'a, DB: Database>(filter: &SiteFilter) -> QueryBuilder<'a, DB>
where
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!(
        "SELECT {} FROM alerts WHERE severity <= ",
        *COLUMNS
    ));
    sql.push_bind(rank(filter.min_severity()));
    if let Some(keys) = filter.site_keys() {
        // An alert for every site is on every screen.
        sql.push(" AND site_key IN (");
        let mut list = sql.separated(", ");
        list.push_bind(noc_shared::EVERY_SITE.to_owned());
        for key in keys {
            list.push_bind(key.clone());
        }
        list.push_unseparated(")");
    }
    sql
}

/// The ORDER BY of snapshots: the display order of every screen.
pub const DISPLAY_ORDER: &str = " ORDER BY severity ASC, created_at DESC, id ASC";
/// The ORDER BY of the list API: newest first.
pub const NEWEST_FIRST: &str = " ORDER BY created_at DESC, id ASC";
/// The ORDER BY of resolved alerts paged back in time.
pub const LAST_RESOLVED_FIRST: &str = " ORDER BY resolved_at DESC, id ASC";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_in_the_fewest_statements_of_eight_sizes() {
        let sizes = |n: usize| -> Vec<usize> {
            let items = vec![0u8; n];
            in_chunks(&items).iter().map(|c| c.len()).collect()
        };
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(15), [8, 4, 2, 1]);
        assert_eq!(sizes(100), [64, 32, 4]);
        assert_eq!(sizes(300), [128, 128, 32, 8, 4]);
    }
}
