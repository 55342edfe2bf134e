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
        let created_at = time(row.created_at)?;
        Ok(Alert {
            status,
            updated_at: time(row.updated_at)?,
            resolved_at: row.resolved_at.map(time).transpose()?,
            acked_at: row.acked_at.map(time).transpose()?,
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
        })
    }
}

/// Converts fetched rows, in order.
pub fn alerts(rows: Vec<AlertRow>) -> Result<Vec<Alert>, StoreError> {
    rows.into_iter().map(Alert::try_from).collect()
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

/// The part of a backend that is the same SQL on SQLite and PostgreSQL,
/// written once and expanded for each backend's connection type (sqlx's
/// generic bounds for this would be longer than the code itself).
///
/// Expands to `apply_batch`, `read_seq`, `write_seq`, `load`, `save`,
/// `list` and `snapshot` in the calling module. `$snapshot_isolation` is
/// run first in a snapshot's transaction, so that its two reads see one
/// moment of the database (empty where a transaction already does).
macro_rules! sql_backend {
    ($db:ty, $conn:ty, $snapshot_isolation:expr) => {
        /// Applies `batch` inside `tx`, each request under its own savepoint
        /// (a refused one leaves no trace); returns the outcomes and the last
        /// seq. Numbers events from `seq + 1`.
        async fn apply_batch(
            tx: &mut sqlx::Transaction<'_, $db>,
            batch: &[Vec<$crate::change::WriteOp>],
            mut seq: u64,
        ) -> Result<($crate::store::BatchResult, u64), $crate::store::StoreError> {
            use sqlx::Acquire;
            let mut results = Vec::with_capacity(batch.len());
            for request in batch {
                let mut savepoint = tx.begin().await?;
                let mut next_seq = seq;
                match apply_request(&mut savepoint, request, &mut next_seq).await {
                    Ok(outcomes) => {
                        savepoint.commit().await?;
                        seq = next_seq;
                        results.push(Ok(outcomes));
                    }
                    Err(Failure::Refused(e)) => {
                        savepoint.rollback().await?;
                        results.push(Err(e));
                    }
                    Err(Failure::Store(e)) => return Err(e),
                }
            }
            Ok((results, seq))
        }

        /// A request's failure: its own (it stores nothing, the others go
        /// on) or the database's (the whole batch fails).
        enum Failure {
            Refused($crate::change::WriteError),
            Store($crate::store::StoreError),
        }

        impl From<sqlx::Error> for Failure {
            fn from(e: sqlx::Error) -> Self {
                Failure::Store(e.into())
            }
        }

        /// Applies one request's ops in order, numbering events from `*seq + 1`.
        async fn apply_request(
            conn: &mut $conn,
            request: &[$crate::change::WriteOp],
            seq: &mut u64,
        ) -> Result<Vec<$crate::change::Outcome>, Failure> {
            let mut outcomes = Vec::with_capacity(request.len());
            for op in request {
                let existing = load(conn, op.id()).await.map_err(Failure::Store)?;
                let (alert, kind) =
                    $crate::change::apply(existing.as_ref(), op, $crate::change::now())
                        .map_err(Failure::Refused)?;
                let event = match kind {
                    None => None,
                    Some(kind) => {
                        save(conn, &alert).await?;
                        *seq += 1;
                        Some($crate::event::Event::new(
                            kind,
                            *seq,
                            &alert,
                            existing.as_ref(),
                        ))
                    }
                };
                outcomes.push($crate::change::Outcome { alert, event });
            }
            Ok(outcomes)
        }

        /// The last event's seq; `lock` is appended to the query (`FOR UPDATE`).
        async fn read_seq(conn: &mut $conn, lock: &str) -> Result<u64, $crate::store::StoreError> {
            let value: i64 = sqlx::query_scalar(&format!(
                "SELECT value FROM counters WHERE name = 'seq'{lock}"
            ))
            .fetch_one(conn)
            .await?;
            Ok(u64::try_from(value).unwrap_or_default())
        }

        async fn write_seq(conn: &mut $conn, seq: u64) -> Result<(), sqlx::Error> {
            sqlx::query("UPDATE counters SET value = $1 WHERE name = 'seq'")
                .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                .execute(conn)
                .await?;
            Ok(())
        }

        async fn load(
            conn: &mut $conn,
            id: &str,
        ) -> Result<Option<noc_shared::Alert>, $crate::store::StoreError> {
            let sql = format!(
                "SELECT {} FROM alerts WHERE id = $1",
                $crate::store::rows::COLUMNS
            );
            let row: Option<$crate::store::rows::AlertRow> =
                sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
            row.map(noc_shared::Alert::try_from).transpose()
        }

        async fn save(conn: &mut $conn, alert: &noc_shared::Alert) -> Result<(), sqlx::Error> {
            let r = $crate::store::rows::AlertRow::from(alert);
            sqlx::query($crate::store::rows::UPSERT)
                .bind(r.id)
                .bind(r.site)
                .bind(r.severity)
                .bind(r.message)
                .bind(r.host)
                .bind(r.source)
                .bind(r.status)
                .bind(r.created_at)
                .bind(r.updated_at)
                .bind(r.resolved_at)
                .bind(r.acked_by)
                .bind(r.acked_at)
                .bind(noc_shared::site_key(&alert.site))
                .execute(conn)
                .await?;
            Ok(())
        }

        /// `GET /api/v1/alerts`: newest first.
        async fn list(
            pool: &sqlx::Pool<$db>,
            query: &$crate::store::ListQuery,
        ) -> Result<Vec<noc_shared::Alert>, $crate::store::StoreError> {
            use $crate::store::{StatusFilter, rows};
            let mut sql = rows::select_matching::<$db>(&query.filter);
            match query.status {
                StatusFilter::Active => sql.push(" AND status = 'active'"),
                StatusFilter::Resolved => sql.push(" AND status = 'resolved'"),
                StatusFilter::All => &mut sql,
            };
            sql.push(rows::NEWEST_FIRST)
                .push(" LIMIT ")
                .push_bind(rows::limit(query.limit));
            rows::alerts(sql.build_query_as().fetch_all(pool).await?)
        }

        /// The active alerts of `filter` in display order, at most `max`, and
        /// the seq they contain.
        async fn snapshot(
            pool: &sqlx::Pool<$db>,
            filter: &noc_shared::SiteFilter,
            max: usize,
        ) -> Result<$crate::store::StoreSnapshot, $crate::store::StoreError> {
            use $crate::store::rows;
            let mut tx = pool.begin().await?;
            let isolation: &str = $snapshot_isolation;
            if !isolation.is_empty() {
                sqlx::query(isolation).execute(&mut *tx).await?;
            }
            let seq = read_seq(&mut tx, "").await?;
            let mut sql = rows::select_matching::<$db>(filter);
            sql.push(" AND status = 'active'")
                .push(rows::DISPLAY_ORDER)
                .push(" LIMIT ");
            sql.push_bind(rows::limit(max.saturating_add(1)));
            let found: Vec<rows::AlertRow> = sql.build_query_as().fetch_all(&mut *tx).await?;
            tx.commit().await?;
            let mut alerts = rows::alerts(found)?;
            let truncated = alerts.len() > max;
            alerts.truncate(max);
            Ok($crate::store::StoreSnapshot {
                seq,
                alerts,
                truncated,
            })
        }
    };
}

pub(super) use sql_backend;
