//! What both SQL backends share: the row shape of an alert, its conversion,
//! the upsert and the filter clause. Placeholders are `$N`, which
//! PostgreSQL and SQLite both read.

use chrono::{DateTime, Utc};
use noc_shared::{Alert, Severity, SiteFilter, Status};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::StoreError;

/// The columns of `alerts`, in [`AlertRow`]'s order.
pub const COLUMNS: &str = "id, site, severity, message, host, source, status, created_at, updated_at, resolved_at, acked_by, acked_at";

/// Inserts or replaces one alert; binds `$1`..`$13` from [`AlertRow::binds`].
pub const UPSERT: &str = "INSERT INTO alerts (id, site, severity, message, host, source, status, \
     created_at, updated_at, resolved_at, acked_by, acked_at, site_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (id) DO UPDATE SET site = excluded.site, site_key = excluded.site_key, \
     severity = excluded.severity, message = excluded.message, host = excluded.host, \
     source = excluded.source, status = excluded.status, created_at = excluded.created_at, \
     updated_at = excluded.updated_at, resolved_at = excluded.resolved_at, \
     acked_by = excluded.acked_by, acked_at = excluded.acked_at";

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
}

impl From<&Alert> for AlertRow {
    fn from(a: &Alert) -> Self {
        AlertRow {
            id: a.id.clone(),
            site: a.site.clone(),
            severity: rank(a.severity),
            message: a.message.clone(),
            host: a.host.clone(),
            source: a.source.clone(),
            status: a.status.as_str().to_owned(),
            created_at: a.created_at.timestamp_millis(),
            updated_at: a.updated_at.timestamp_millis(),
            resolved_at: a.resolved_at.map(|t| t.timestamp_millis()),
            acked_by: a.acked_by.clone(),
            acked_at: a.acked_at.map(|t| t.timestamp_millis()),
        }
    }
}

impl TryFrom<AlertRow> for Alert {
    type Error = StoreError;

    fn try_from(row: AlertRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt {
            id: row.id.clone(),
            what: what.to_owned(),
        };
        let time = |ms: i64| {
            DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| corrupt("time out of range"))
        };
        let severity = usize::try_from(row.severity)
            .ok()
            .and_then(|r| Severity::ALL.get(r).copied())
            .ok_or_else(|| corrupt("severity"))?;
        let status = match row.status.as_str() {
            "active" => Status::Active,
            "resolved" => Status::Resolved,
            _ => return Err(corrupt("status")),
        };
        Ok(Alert {
            severity,
            status,
            created_at: time(row.created_at)?,
            updated_at: time(row.updated_at)?,
            resolved_at: row.resolved_at.map(time).transpose()?,
            acked_at: row.acked_at.map(time).transpose()?,
            id: row.id,
            site: row.site,
            message: row.message,
            host: row.host,
            source: row.source,
            acked_by: row.acked_by,
        })
    }
}

/// Converts fetched rows, in order.
pub fn alerts(rows: Vec<AlertRow>) -> Result<Vec<Alert>, StoreError> {
    rows.into_iter().map(Alert::try_from).collect()
}

/// The site as matched: lower-cased in Rust, which knows Unicode (SQL's
/// `lower()` does not everywhere).
pub fn site_key(site: &str) -> String {
    site.to_lowercase()
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
    let mut sql = QueryBuilder::new(format!("SELECT {COLUMNS} FROM alerts WHERE severity <= "));
    sql.push_bind(rank(filter.min_severity()));
    if let Some(keys) = filter.site_keys() {
        sql.push(" AND site_key IN (");
        let mut list = sql.separated(", ");
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
