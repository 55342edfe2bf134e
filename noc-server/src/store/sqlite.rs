//! The embedded SQLite backend: created on first run, WAL journal, and
//! `synchronous = FULL` so that a commit is on disk before a 2xx answer.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use noc_shared::{Alert, HistoryEntry, Profile, SiteFilter};
use noc_shared::{Silence, SilenceState, Writeback, WritebackCounts};
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use super::outbox::{Attempt, OutboxRow};
use super::silences::{RulesCache, StoredSilence};
use super::{BatchResult, ListQuery, Store, StoreError, StoreSnapshot};
use crate::change::WriteOp;

super::silences::silence_sql!(Sqlite, SqliteConnection);
super::silence_writes::silence_writes!(Sqlite, "BEGIN IMMEDIATE");
super::silence_writes::resilence_bulk!(Sqlite, SqliteConnection);
super::seen::seen_sql!(Sqlite);
// SQLite has one process writing; on PostgreSQL several instances claim.
super::outbox::outbox_sql!(Sqlite, SqliteConnection, "", "BEGIN IMMEDIATE");

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

super::sql::sql_backend!(
    Sqlite,
    SqliteConnection,
    super::sql::Dialect {
        // A SQLite read transaction sees one moment of the database by itself.
        snapshot_isolation: "",
        id_in_json: "id IN (SELECT value FROM json_each($1))",
        plan_read_each_time: false,
    }
);
super::profiles::profile_sql!(Sqlite);
super::retention::retention_sql!(Sqlite);
super::due::due_sql!(Sqlite);

/// Stores the last event's seq (PostgreSQL's does it in one statement
/// with the rest of its batch's end).
async fn write_seq(conn: &mut SqliteConnection, seq: u64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE counters SET value = $1 WHERE name = 'seq'")
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .execute(conn)
        .await?;
    Ok(())
}

/// Alerts in one SQLite file.
pub struct SqliteStore {
    pool: SqlitePool,
    /// Held by each write transaction of this process. SQLite lets one
    /// writer at a time in, and a transaction that read before another
    /// committed cannot write at all (SQLITE_BUSY_SNAPSHOT, which no busy
    /// timeout waits out): the writer's batches, retention, silences and
    /// profile changes, signs of life and the write-back outbox take turns
    /// here instead ([`SqliteStore::in_turn`]); the transactions begun
    /// here begin IMMEDIATE, so that another process's write lock is
    /// waited for at the start (the shared ones begin DEFERRED, safe in
    /// turn: no write of this process comes between their reads and writes).
    writing: tokio::sync::Mutex<()>,
    /// The live silences, compiled for the write path.
    rules: RulesCache,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url`,
    /// e.g. `sqlite://noc.db` or `sqlite:///var/lib/noc/noc.db`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            // Pruned alerts' pages go back to the file system.
            .auto_vacuum(SqliteAutoVacuum::Incremental)
            .busy_timeout(Duration::from_secs(5))
            // A multi-row statement keeps a journal of its own to undo
            // itself if it fails half-way; in memory, not a temporary file
            // (it is never needed after the statement).
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        incremental_vacuum(&pool).await?;
        Ok(SqliteStore {
            pool,
            rules: RulesCache::default(),
            writing: tokio::sync::Mutex::new(()),
        })
    }
}

impl SqliteStore {
    /// This process's turn to write (see `writing`): every statement that
    /// writes runs while the answer is held.
    async fn in_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writing.lock().await
    }

    /// A write transaction begun in turn, IMMEDIATE; keep the guard for as
    /// long as the transaction.
    async fn begin_write(
        &self,
    ) -> Result<
        (
            tokio::sync::MutexGuard<'_, ()>,
            sqlx::Transaction<'_, Sqlite>,
        ),
        StoreError,
    > {
        let turn = self.in_turn().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((turn, tx))
    }
}

/// A file made before auto_vacuum was set keeps its old mode until a
/// VACUUM rewrites it: done once, at start.
async fn incremental_vacuum(pool: &SqlitePool) -> Result<(), StoreError> {
    let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
        .fetch_one(pool)
        .await?;
    const INCREMENTAL: i64 = 2;
    if mode != INCREMENTAL {
        tracing::info!("rewriting the database once so that it can give space back (VACUUM)");
        let mut conn = pool.acquire().await?;
        sqlx::query("PRAGMA auto_vacuum = INCREMENTAL")
            .execute(&mut *conn)
            .await?;
        sqlx::query("VACUUM").execute(&mut *conn).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn write(&self, batch: &[Vec<WriteOp>]) -> Result<BatchResult, StoreError> {
        let (_turn, mut tx) = self.begin_write().await?;
        let first = read_seq(&mut tx, "").await?;
        let rules = current_rules(&mut tx, &self.rules, crate::change::now()).await?;
        let (results, seq) = apply_batch(&mut tx, batch, first, &rules).await?;
        if seq != first {
            write_seq(&mut tx, seq).await?;
        }
        tx.commit().await?;
        Ok(results)
    }

    async fn get(&self, id: &str) -> Result<Option<Alert>, StoreError> {
        Ok(load(&mut *self.pool.acquire().await?, id)
            .await?
            .map(|s| s.alert))
    }

    async fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        history(&self.pool, id).await
    }

    async fn next_deadline(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        next_deadline(&self.pool).await
    }

    async fn due(&self, now: DateTime<Utc>, max: usize) -> Result<Vec<WriteOp>, StoreError> {
        due(&self.pool, now, max).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<Alert>, StoreError> {
        list(&self.pool, query).await
    }

    async fn snapshot(&self, filter: &SiteFilter, max: usize) -> Result<StoreSnapshot, StoreError> {
        snapshot(&self.pool, filter, max).await
    }

    async fn silences(
        &self,
        state: Option<SilenceState>,
        now: DateTime<Utc>,
        max: usize,
    ) -> Result<Vec<Silence>, StoreError> {
        list_silences(&self.pool, state, now, max).await
    }

    async fn silence(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Silence>, StoreError> {
        let found = load_silence(&mut *self.pool.acquire().await?, id, now).await?;
        Ok(found.map(|s| s.silence))
    }

    async fn create_silence(
        &self,
        silence: &StoredSilence,
        now: DateTime<Utc>,
    ) -> Result<Result<Silence, String>, StoreError> {
        let _turn = self.in_turn().await;
        create_silence(&self.pool, silence, now).await
    }

    async fn delete_silence(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Silence>, StoreError> {
        let _turn = self.in_turn().await;
        delete_silence(&self.pool, id, now).await
    }

    async fn silence_mismatches(&self, now: DateTime<Utc>) -> Result<Vec<WriteOp>, StoreError> {
        silence_mismatches(&self.pool, &self.rules, now).await
    }

    async fn next_silence_change(
        &self,
        after: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        next_silence_change(&self.pool, after).await
    }

    async fn save_seen(&self, seen: &[(String, DateTime<Utc>)]) -> Result<(), StoreError> {
        let (_turn, mut tx) = self.begin_write().await?;
        save_seen(&mut tx, seen).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load_seen(&self) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        load_seen(&self.pool).await
    }

    async fn active_by_source(&self) -> Result<HashMap<String, u64>, StoreError> {
        active_by_source(&self.pool).await
    }

    async fn claim_writebacks(
        &self,
        now: DateTime<Utc>,
        max: usize,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let _turn = self.in_turn().await;
        claim_writebacks(&self.pool, now, max).await
    }

    async fn finish_writeback(
        &self,
        id: i64,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, Option<Writeback>)>, StoreError> {
        let _turn = self.in_turn().await;
        finish_writeback(&self.pool, id, attempt, now).await
    }

    async fn postpone_writebacks(
        &self,
        source: &str,
        until: DateTime<Utc>,
        held: &[i64],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let _turn = self.in_turn().await;
        postpone_writebacks(&self.pool, source, until, held, now).await
    }

    async fn open_silence(&self, alert_id: &str) -> Result<Option<(i64, String)>, StoreError> {
        open_silence(&self.pool, alert_id).await
    }

    async fn close_silence(&self, id: i64) -> Result<(), StoreError> {
        let _turn = self.in_turn().await;
        close_silence(&self.pool, id).await
    }

    async fn set_writeback_sources(&self, sources: &[(String, String)]) -> Result<(), StoreError> {
        let _turn = self.in_turn().await;
        set_writeback_sources(&self.pool, sources).await
    }

    async fn prune_writebacks(&self, before: DateTime<Utc>, max: usize) -> Result<u64, StoreError> {
        let _turn = self.in_turn().await;
        prune_writebacks(&self.pool, before, max).await
    }

    async fn writeback_counts(&self) -> Result<BTreeMap<String, WritebackCounts>, StoreError> {
        writeback_counts(&self.pool).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn prune_resolved(
        &self,
        before: DateTime<Utc>,
        batch: usize,
    ) -> Result<usize, StoreError> {
        let (_turn, mut tx) = self.begin_write().await?;
        let pruned = prune_resolved_in(&mut tx, before.timestamp_millis(), batch).await?;
        tx.commit().await?;
        // Still in turn: giving pages back writes too.
        if pruned > 0 {
            // Free pages back to the file system (auto_vacuum is incremental).
            sqlx::query("PRAGMA incremental_vacuum")
                .execute(&self.pool)
                .await?;
        }
        Ok(pruned)
    }

    async fn profiles(&self) -> Result<BTreeMap<String, Profile>, StoreError> {
        load_profiles(&self.pool).await
    }

    async fn profile(&self, name: &str) -> Result<Option<Profile>, StoreError> {
        load_profile(&self.pool, name).await
    }

    async fn put_profiles(&self, profiles: &[(String, Profile)]) -> Result<(), StoreError> {
        let (_turn, mut tx) = self.begin_write().await?;
        save_profiles(&mut tx, profiles).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_profile(&self, name: &str) -> Result<bool, StoreError> {
        let (_turn, mut tx) = self.begin_write().await?;
        let removed = remove_profile(&mut tx, name).await?;
        tx.commit().await?;
        Ok(removed)
    }
}
