//! The embedded SQLite backend: created on first run, WAL journal, and
//! `synchronous = FULL` so that a commit is on disk before a 2xx answer.

use std::str::FromStr;
use std::time::Duration;

use noc_shared::{Alert, SiteFilter};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Acquire, Sqlite, SqliteConnection, SqlitePool};

use super::rows::{self, AlertRow, COLUMNS, UPSERT};
use super::{
    BatchResult, Event, ListQuery, Outcome, StatusFilter, Store, StoreError, StoreSnapshot,
    WriteError, WriteOp, apply, now,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

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
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

/// A request's failure: its own (stores nothing, others go on) or the
/// database's (the whole batch fails).
pub(super) enum RequestError {
    Refused(WriteError),
    Store(StoreError),
}

impl From<sqlx::Error> for RequestError {
    fn from(e: sqlx::Error) -> Self {
        RequestError::Store(e.into())
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
        sqlx::query("UPDATE counters SET value = $1 WHERE name = 'seq'")
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
        let mut sql = rows::select_matching::<Sqlite>(&query.filter);
        match query.status {
            StatusFilter::Active => sql.push(" AND status = 'active'"),
            StatusFilter::Resolved => sql.push(" AND status = 'resolved'"),
            StatusFilter::All => &mut sql,
        };
        sql.push(rows::NEWEST_FIRST)
            .push(" LIMIT ")
            .push_bind(rows::limit(query.limit));
        rows::alerts(sql.build_query_as().fetch_all(&self.pool).await?)
    }

    async fn snapshot(&self, filter: &SiteFilter, max: usize) -> Result<StoreSnapshot, StoreError> {
        // One read transaction: the seq and the alerts come from the same moment.
        let mut tx = self.pool.begin().await?;
        let seq = read_seq(&mut tx).await?;
        let mut sql = rows::select_matching::<Sqlite>(filter);
        sql.push(" AND status = 'active'")
            .push(rows::DISPLAY_ORDER)
            .push(" LIMIT ");
        sql.push_bind(rows::limit(max.saturating_add(1)));
        let found: Vec<AlertRow> = sql.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut alerts = rows::alerts(found)?;
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
        let existing = load(conn, op.id()).await.map_err(RequestError::Store)?;
        let (alert, kind) = apply(existing.as_ref(), op, now()).map_err(RequestError::Refused)?;
        let event = match kind {
            None => None,
            Some(kind) => {
                save(conn, &alert).await?;
                *seq += 1;
                Some(Event::new(kind, *seq, &alert, existing.as_ref()))
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
    let row: Option<AlertRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM alerts WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.map(Alert::try_from).transpose()
}

async fn save(conn: &mut SqliteConnection, alert: &Alert) -> Result<(), sqlx::Error> {
    let r = AlertRow::from(alert);
    sqlx::query(UPSERT)
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
        .bind(rows::site_key(&alert.site))
        .execute(conn)
        .await?;
    Ok(())
}
