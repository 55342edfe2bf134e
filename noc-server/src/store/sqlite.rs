//! The embedded SQLite backend: created on first run, WAL journal, and
//! `synchronous = FULL` so that a commit is on disk before a 2xx answer.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use noc_shared::{Alert, Severity, SiteFilter, Status};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Acquire, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use super::{
    BatchResult, Event, ListQuery, Outcome, StatusFilter, Store, StoreError, StoreSnapshot,
    WriteError, WriteOp, apply, now,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const COLUMNS: &str = "id, site, severity, message, host, source, status, created_at, updated_at, resolved_at, acked_by, acked_at";

/// Alerts in one SQLite file.
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url`,
    /// e.g. `sqlite://noc.db` or `sqlite:///var/lib/noc/noc.db`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

/// A request's failure: its own (stores nothing, others go on) or the
/// database's (the whole batch fails).
enum RequestError {
    Refused(WriteError),
    Store(StoreError),
}

impl From<sqlx::Error> for RequestError {
    fn from(e: sqlx::Error) -> Self {
        RequestError::Store(e.into())
    }
}

impl From<StoreError> for RequestError {
    fn from(e: StoreError) -> Self {
        RequestError::Store(e)
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn write(&self, batch: &[Vec<WriteOp>]) -> Result<BatchResult, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut seq = read_seq(&mut tx).await?;
        let mut results = Vec::with_capacity(batch.len());
        for request in batch {
            // Each request under its own savepoint: a refused one leaves no trace.
            let mut savepoint = tx.begin().await?;
            let mut next_seq = seq;
            match apply_request(&mut savepoint, request, &mut next_seq).await {
                Ok(outcomes) => {
                    savepoint.commit().await?;
                    seq = next_seq;
                    results.push(Ok(outcomes));
                }
                Err(RequestError::Refused(e)) => {
                    savepoint.rollback().await?;
                    results.push(Err(e));
                }
                Err(RequestError::Store(e)) => return Err(e),
            }
        }
        sqlx::query("UPDATE counters SET value = ? WHERE name = 'seq'")
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(results)
    }

    async fn get(&self, id: &str) -> Result<Option<Alert>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, id).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<Alert>, StoreError> {
        let mut sql = select_matching(&query.filter);
        match query.status {
            StatusFilter::Active => sql.push(" AND status = 'active'"),
            StatusFilter::Resolved => sql.push(" AND status = 'resolved'"),
            StatusFilter::All => &mut sql,
        };
        sql.push(" ORDER BY created_at DESC, id ASC LIMIT ")
            .push_bind(limit(query.limit));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn snapshot(&self, filter: &SiteFilter, max: usize) -> Result<StoreSnapshot, StoreError> {
        // One read transaction: the seq and the alerts come from the same moment.
        let mut tx = self.pool.begin().await?;
        let seq = read_seq(&mut tx).await?;
        let mut sql = select_matching(filter);
        sql.push(" AND status = 'active' ORDER BY severity ASC, created_at DESC, id ASC LIMIT ")
            .push_bind(limit(max.saturating_add(1)));
        let rows = sql.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut alerts = rows
            .iter()
            .map(alert_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let truncated = alerts.len() > max;
        alerts.truncate(max);
        Ok(StoreSnapshot {
            seq,
            alerts,
            truncated,
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Applies one request's ops in order, numbering events from `*seq + 1`.
async fn apply_request(
    conn: &mut SqliteConnection,
    request: &[WriteOp],
    seq: &mut u64,
) -> Result<Vec<Outcome>, RequestError> {
    let mut outcomes = Vec::with_capacity(request.len());
    for op in request {
        let id = match op {
            WriteOp::Ingest(input) => input.id.as_deref().unwrap_or_default(),
            WriteOp::Ack { id, .. } => id,
        };
        let existing = load(conn, id).await?;
        let (alert, kind) = apply(existing.as_ref(), op, now()).map_err(RequestError::Refused)?;
        let event = match kind {
            None => None,
            Some(kind) => {
                save(conn, &alert).await?;
                *seq += 1;
                let before = existing.map(|old| (old.site, old.severity));
                Some(Event {
                    kind,
                    seq: *seq,
                    alert: alert.clone(),
                    before,
                })
            }
        };
        outcomes.push(Outcome { alert, event });
    }
    Ok(outcomes)
}

async fn read_seq(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let value: i64 = sqlx::query_scalar("SELECT value FROM counters WHERE name = 'seq'")
        .fetch_one(conn)
        .await?;
    Ok(u64::try_from(value).unwrap_or_default())
}

async fn load(conn: &mut SqliteConnection, id: &str) -> Result<Option<Alert>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM alerts WHERE id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(alert_from_row).transpose()
}

async fn save(conn: &mut SqliteConnection, a: &Alert) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO alerts (id, site, site_key, severity, message, host, source, status, \
         created_at, updated_at, resolved_at, acked_by, acked_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET site = excluded.site, site_key = excluded.site_key, \
         severity = excluded.severity, message = excluded.message, host = excluded.host, \
         source = excluded.source, status = excluded.status, created_at = excluded.created_at, \
         updated_at = excluded.updated_at, resolved_at = excluded.resolved_at, \
         acked_by = excluded.acked_by, acked_at = excluded.acked_at",
    )
    .bind(&a.id)
    .bind(&a.site)
    .bind(a.site.to_lowercase())
    .bind(rank(a.severity))
    .bind(&a.message)
    .bind(&a.host)
    .bind(&a.source)
    .bind(a.status.as_str())
    .bind(a.created_at.timestamp_millis())
    .bind(a.updated_at.timestamp_millis())
    .bind(a.resolved_at.map(|t| t.timestamp_millis()))
    .bind(&a.acked_by)
    .bind(a.acked_at.map(|t| t.timestamp_millis()))
    .execute(conn)
    .await?;
    Ok(())
}

/// `SELECT … WHERE <filter>`, ready for more `AND` clauses.
fn select_matching(filter: &SiteFilter) -> QueryBuilder<'static, Sqlite> {
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

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn rank(severity: Severity) -> i64 {
    severity.rank() as i64
}

fn alert_from_row(row: &SqliteRow) -> Result<Alert, StoreError> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: &str| StoreError::Corrupt {
        id: id.clone(),
        what: what.to_owned(),
    };
    let time = |ms: i64| {
        DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| corrupt("time out of range"))
    };
    let opt_time = |ms: Option<i64>| ms.map(time).transpose();
    let severity = usize::try_from(row.try_get::<i64, _>("severity")?)
        .ok()
        .and_then(|r| Severity::ALL.get(r).copied())
        .ok_or_else(|| corrupt("severity"))?;
    let status = match row.try_get::<&str, _>("status")? {
        "active" => Status::Active,
        "resolved" => Status::Resolved,
        _ => return Err(corrupt("status")),
    };
    Ok(Alert {
        site: row.try_get("site")?,
        severity,
        message: row.try_get("message")?,
        host: row.try_get("host")?,
        source: row.try_get("source")?,
        status,
        created_at: time(row.try_get("created_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
        resolved_at: opt_time(row.try_get("resolved_at")?)?,
        acked_by: row.try_get("acked_by")?,
        acked_at: opt_time(row.try_get("acked_at")?)?,
        id,
    })
}
