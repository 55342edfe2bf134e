//! The PostgreSQL backend, for several server instances behind one address.
//!
//! PostgreSQL is both the store and the bus between instances: each write
//! transaction locks the `seq` counter row (so seqs are gapless and commit
//! in order), appends its events to the `events` table and sends a NOTIFY.
//! Every instance's follower (`follow.rs`, [`PostgresStore::follow`])
//! reads the events table by `seq` and publishes them in its own process,
//! so a screen on any instance sees every instance's alerts in one global
//! order.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use noc_shared::{Alert, EventReason, HistoryEntry, Note, Profile, Severity, SiteFilter};
use noc_shared::{Silence, SilenceState, Writeback, WritebackCounts};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres};

use super::news::{self, NewsNotice};
use super::outbox::{Attempt, OutboxRow};
use super::silences::{RulesCache, StoredSilence};
use super::{BatchResult, Follower, ListQuery, NewsFollower, Store, StoreError, StoreSnapshot};
use crate::change::WriteOp;

super::sql::sql_backend!(
    Postgres,
    PgConnection,
    super::sql::Dialect {
        // The default isolation would let the seq and the alerts come from
        // two moments.
        snapshot_isolation: "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
        // `IN (SELECT …)` would be a hash join over every alert (the
        // planner cannot count a JSON array); an array is one index probe
        // per id.
        id_in_json: "id = ANY(ARRAY(SELECT json_array_elements_text($1::json)))",
        plan_read_each_time: true,
    }
);
super::profiles::profile_sql!(Postgres);
super::retention::retention_sql!(Postgres);
super::due::due_sql!(Postgres);

super::silences::silence_sql!(Postgres, PgConnection);
super::silence_writes::silence_writes!(Postgres, "BEGIN");
super::silence_writes::resilence_bulk!(Postgres, PgConnection);
super::seen::seen_sql!(Postgres);
// SQLite has one process writing; on PostgreSQL several instances claim.
super::outbox::outbox_sql!(Postgres, PgConnection, " FOR UPDATE SKIP LOCKED", "BEGIN");

mod follow;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The NOTIFY channel of committed events.
const CHANNEL: &str = "noc_events";
/// Events kept in the `events` table for followers that reconnect.
const KEEP_EVENTS: i64 = 100_000;
/// How long the listener may be down before `/healthz` says so: long
/// enough for one reconnection, short enough for a load balancer to move
/// the screens before they miss much.
const DEAF_AFTER: Duration = Duration::from_secs(5);
/// The listening connection's `application_name`, so that an operator (or
/// a test) can find it in `pg_stat_activity`.
pub const LISTENER_APPLICATION_NAME: &str = "noc-server-listener";

/// Alerts in PostgreSQL, shared by every instance.
pub struct PostgresStore {
    pool: PgPool,
    /// How the listener connects: on a connection of its own, new for each
    /// attempt, never an idle one of `pool` that may be as dead as the
    /// listener's was.
    listen_options: PgConnectOptions,
    /// The seq when this instance opened the store: its follower publishes
    /// every event after it, so nothing committed after start-up is missed.
    start_seq: u64,
    /// Since when, and why, the follower has not been listening; `None`
    /// while it listens.
    deaf: std::sync::Mutex<Option<(Instant, String)>>,
    /// The live silences, compiled for the write path.
    rules: RulesCache,
}

/// An event as the `events` table keeps it.
#[derive(Serialize, Deserialize)]
struct EventRecord {
    kind: String,
    alert: Alert,
    before: Option<(String, Severity)>,
    #[serde(default)]
    reason: Option<EventReason>,
    #[serde(default)]
    note: Option<Note>,
}

impl PostgresStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // /healthz must answer 503 quickly when the database is gone.
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options.clone().application_name("noc-server"))
            .await?;
        let listen_options = options.application_name(LISTENER_APPLICATION_NAME);
        MIGRATOR.run(&pool).await?;
        let start_seq = read_seq(&mut *pool.acquire().await?, "").await?;
        // Deaf until the follower first listens: one that never manages to
        // is a fault like one that lost its connection.
        let deaf = Some((
            Instant::now(),
            "the event listener has not connected yet".into(),
        ));
        Ok(PostgresStore {
            pool,
            listen_options,
            start_seq,
            deaf: std::sync::Mutex::new(deaf),
            rules: RulesCache::default(),
        })
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn write(&self, batch: &[Vec<WriteOp>]) -> Result<BatchResult, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The row lock that orders every writer of every instance: seqs are
        // gapless and commit in order, so followers can read by seq.
        let first = read_seq(&mut tx, " FOR UPDATE").await?;
        let rules = current_rules(&mut tx, &self.rules, crate::change::now()).await?;
        let (results, seq) = apply_batch(&mut tx, batch, first, &rules).await?;
        if seq != first {
            let events = results.iter().flatten().flatten().flat_map(|o| o.events());
            let mut rows = Vec::new();
            for event in events {
                let record = EventRecord {
                    kind: event.kind.as_str().to_owned(),
                    alert: event.alert.clone(),
                    before: event.before.clone(),
                    reason: event.reason,
                    note: event.note.clone(),
                };
                let payload = serde_json::to_string(&record).map_err(|e| StoreError::Corrupt {
                    id: event.alert.id.clone(),
                    what: e.to_string(),
                })?;
                rows.push((i64::try_from(event.seq).unwrap_or(i64::MAX), payload));
            }
            // Many rows a statement: a silence that starts on 10,000 alerts
            // writes 10,000 events, and one round trip each would be seconds
            // (and a few sizes of statement, not one per count).
            for chunk in super::rows::in_chunks(&rows) {
                let mut sql =
                    sqlx::QueryBuilder::<Postgres>::new("INSERT INTO events (seq, payload) ");
                sql.push_values(chunk, |mut row, (seq, payload)| {
                    row.push_bind(*seq).push_bind(payload.clone());
                });
                sql.build().execute(&mut *tx).await?;
            }
            // The new seq, the events log trimmed, and the listeners told
            // (when, and only if, this commits): one round trip.
            let last = i64::try_from(seq).unwrap_or(i64::MAX);
            sqlx::query(
                "WITH counted AS (UPDATE counters SET value = $1 WHERE name = 'seq'), \
                 trimmed AS (DELETE FROM events WHERE seq <= $2) \
                 SELECT pg_notify($3, $4)",
            )
            .bind(last)
            .bind(last - KEEP_EVENTS)
            .bind(CHANNEL)
            .bind(last.to_string())
            .execute(&mut *tx)
            .await?;
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
        create_silence(&self.pool, silence, now).await
    }

    async fn delete_silence(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Silence>, StoreError> {
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
        let mut tx = self.pool.begin().await?;
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
        claim_writebacks(&self.pool, now, max).await
    }

    async fn finish_writeback(
        &self,
        id: i64,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, Option<Writeback>)>, StoreError> {
        finish_writeback(&self.pool, id, attempt, now).await
    }

    async fn postpone_writebacks(
        &self,
        source: &str,
        until: DateTime<Utc>,
        held: &[i64],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        postpone_writebacks(&self.pool, source, until, held, now).await
    }

    async fn open_silence(&self, alert_id: &str) -> Result<Option<(i64, String)>, StoreError> {
        open_silence(&self.pool, alert_id).await
    }

    async fn close_silence(&self, id: i64) -> Result<(), StoreError> {
        close_silence(&self.pool, id).await
    }

    async fn set_writeback_sources(&self, sources: &[(String, String)]) -> Result<(), StoreError> {
        set_writeback_sources(&self.pool, sources).await
    }

    async fn prune_writebacks(&self, before: DateTime<Utc>, max: usize) -> Result<u64, StoreError> {
        prune_writebacks(&self.pool, before, max).await
    }

    async fn writeback_counts(&self) -> Result<BTreeMap<String, WritebackCounts>, StoreError> {
        writeback_counts(&self.pool).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn deafness(&self) -> Option<String> {
        let deaf = self.deaf.lock().unwrap_or_else(|e| e.into_inner());
        deaf.as_ref()
            .filter(|(since, _)| since.elapsed() > DEAF_AFTER)
            .map(|(_, error)| error.clone())
    }

    fn follower(self: Arc<Self>) -> Option<Follower> {
        Some(Box::new(move |hub, shutdown| {
            Box::pin(self.follow(hub, shutdown))
        }))
    }

    async fn prune_resolved(
        &self,
        before: DateTime<Utc>,
        batch: usize,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        let pruned = prune_resolved_in(&mut tx, before.timestamp_millis(), batch).await?;
        tx.commit().await?;
        Ok(pruned)
    }

    async fn profiles(&self) -> Result<BTreeMap<String, Profile>, StoreError> {
        load_profiles(&self.pool).await
    }

    async fn profile(&self, name: &str) -> Result<Option<Profile>, StoreError> {
        load_profile(&self.pool, name).await
    }

    async fn put_profiles(&self, profiles: &[(String, Profile)]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        save_profiles(&mut tx, profiles).await?;
        for (name, _) in profiles {
            news::notify(&mut tx, NewsNotice::Profile, name).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_profile(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let removed = remove_profile(&mut tx, name).await?;
        news::notify(&mut tx, NewsNotice::Profile, name).await?;
        tx.commit().await?;
        Ok(removed)
    }

    async fn identify(&self, name: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        news::notify(&mut tx, NewsNotice::Identify, name).await?;
        tx.commit().await?;
        Ok(())
    }

    fn news_follower(self: Arc<Self>) -> Option<NewsFollower> {
        let pool = self.pool.clone();
        Some(Box::new(move |to, shutdown| {
            Box::pin(news::follow(pool, to, shutdown))
        }))
    }
}
