//! Durable storage of alerts behind one small trait, [`Store`], with one
//! module per backend; [`open`] picks the backend by the URL's scheme.
//!
//! What a change does to an alert is decided below, in
//! [`crate::change::apply`], so every backend behaves alike; backends only
//! load and save rows, number the events and commit.

mod batch;
mod due;
mod history;
mod news;
pub mod outbox;
mod postgres;
mod profiles;
mod retention;
mod rows;
mod seen;
mod silence_writes;
pub mod silences;
mod sql;
mod sqlite;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use noc_shared::{
    Alert, HistoryEntry, Profile, Silence, SilenceState, SiteFilter, Writeback, WritebackCounts,
};
use tokio_util::sync::CancellationToken;

use crate::change::{Outcome, WriteError, WriteOp};
use crate::event::{Announce, Publish};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The most alerts a snapshot holds; `truncated` says when more matched.
pub const SNAPSHOT_LIMIT: usize = 1000;

/// The store could not do its work (I/O, a lost connection, a bad
/// migration). The request may be retried: the HTTP answer is 503.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("corrupt row for alert {id:?}: {what}")]
    Corrupt { id: String, what: String },
}

/// Which alerts `GET /api/v1/alerts` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Active,
    Resolved,
    All,
}

/// A query of `GET /api/v1/alerts`: newest first; resolved alerts most
/// recently resolved first, a page of them ending with every alert resolved
/// in the same millisecond as its last (so that `before` that time misses
/// none).
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: SiteFilter,
    pub status: StatusFilter,
    pub limit: usize,
    /// With [`StatusFilter::Resolved`]: only alerts resolved before this.
    pub before: Option<DateTime<Utc>>,
}

/// The active alerts of one filter and the last event they contain, read in
/// one transaction so that they agree.
#[derive(Debug, Clone)]
pub struct StoreSnapshot {
    pub seq: u64,
    pub alerts: Vec<Alert>,
    pub truncated: bool,
}

/// The outcome of each request of a batch: its ops' outcomes, or the reason
/// it stored nothing.
pub type BatchResult = Vec<Result<Vec<Outcome>, WriteError>>;

/// A task that publishes every event committed by any instance sharing the
/// store, until the token is cancelled.
pub type Follower = Box<
    dyn FnOnce(Arc<dyn Publish>, CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>>
        + Send,
>;

/// A task that announces every instance's screen news (profile changes,
/// identify) in this instance, until the token is cancelled.
pub type NewsFollower = Box<
    dyn FnOnce(Arc<dyn Announce>, CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>>
        + Send,
>;

/// Durable alert storage.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies `batch` in one transaction: each request (a list of ops) is
    /// all-or-nothing, events get consecutive `seq`s, and everything is
    /// durably committed before this returns.
    async fn write(&self, batch: &[Vec<WriteOp>]) -> Result<BatchResult, StoreError>;

    async fn get(&self, id: &str) -> Result<Option<Alert>, StoreError>;

    async fn list(&self, query: &ListQuery) -> Result<Vec<Alert>, StoreError>;

    /// The active alerts matching `filter` in display order, at most `limit`.
    async fn snapshot(
        &self,
        filter: &SiteFilter,
        limit: usize,
    ) -> Result<StoreSnapshot, StoreError>;

    /// Silences in `state` at `now` (every one for `None`), at most `max`:
    /// live ones soonest-ending first, expired ones latest-ended first.
    async fn silences(
        &self,
        state: Option<SilenceState>,
        now: DateTime<Utc>,
        max: usize,
    ) -> Result<Vec<Silence>, StoreError>;

    /// One silence, with its state at `now`.
    async fn silence(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Silence>, StoreError>;

    /// Stores a new silence; `Ok(Err(message))` when too many are live.
    async fn create_silence(
        &self,
        silence: &silences::StoredSilence,
        now: DateTime<Utc>,
    ) -> Result<Result<Silence, String>, StoreError>;

    /// Ends silence `id` at `now` (it stays, expired); `None` when unknown.
    async fn delete_silence(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Silence>, StoreError>;
    /// Alert `id`'s history, oldest first (empty for an unknown alert).
    async fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError>;

    /// The earliest time something stored is due on the clock (an alert
    /// expires, an ack lapses), if anything is.
    async fn next_deadline(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// The clock's ops due at `now`, at most `max` of each kind. Each op
    /// checks again, in its write, that it is still due.
    async fn due(&self, now: DateTime<Utc>, max: usize) -> Result<Vec<WriteOp>, StoreError>;

    /// The ops that bring every alert's `silenced_by` to what the live
    /// silences say at `now` (one per alert that differs): for when a
    /// silence starts or ends. Each op checks again in its write.
    async fn silence_mismatches(&self, now: DateTime<Utc>) -> Result<Vec<WriteOp>, StoreError>;

    /// The first time after `after` at which a silence starts or ends.
    async fn next_silence_change(
        &self,
        after: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Records when sources were heard from (a later stored time stays).
    async fn save_seen(&self, seen: &[(String, DateTime<Utc>)]) -> Result<(), StoreError>;

    /// When each source was last heard from, as stored.
    async fn load_seen(&self) -> Result<Vec<(String, DateTime<Utc>)>, StoreError>;

    /// How many active alerts each `source` has.
    async fn active_by_source(&self) -> Result<HashMap<String, u64>, StoreError>;
    /// Write-back: claims up to `max` outbox rows due at `now` (each
    /// alert's oldest pending one) for [`outbox::LEASE`].
    async fn claim_writebacks(
        &self,
        now: DateTime<Utc>,
        max: usize,
    ) -> Result<Vec<outbox::OutboxRow>, StoreError>;

    /// Records how outbox row `id` went; answers its alert's id and the
    /// write-back the alert now shows (`None` for an unknown row).
    async fn finish_writeback(
        &self,
        id: i64,
        attempt: &outbox::Attempt,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, Option<Writeback>)>, StoreError>;

    /// Postpones `source`'s pending write-backs to `until` (its source is
    /// down): those due before it, except rows pending for
    /// [`outbox::GIVE_UP`] at `now` (they stay due, to be given up), and
    /// the claimed rows `held`, which were not sent. One statement;
    /// answers how many were postponed.
    async fn postpone_writebacks(
        &self,
        source: &str,
        until: DateTime<Utc>,
        held: &[i64],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// The newest silence an ack of `alert_id` made and that is not yet
    /// deleted: its outbox row and the source's id for it.
    async fn open_silence(&self, alert_id: &str) -> Result<Option<(i64, String)>, StoreError>;

    /// Forgets the silence of outbox row `id`: it has been deleted.
    async fn close_silence(&self, id: i64) -> Result<(), StoreError>;

    /// Replaces the sources whose alerts are written back, `(name, kind)`.
    async fn set_writeback_sources(&self, sources: &[(String, String)]) -> Result<(), StoreError>;

    /// Deletes up to `max` finished write-backs queued before `before`
    /// (never an ack's whose silence is up); answers how many.
    async fn prune_writebacks(&self, before: DateTime<Utc>, max: usize) -> Result<u64, StoreError>;

    /// Per source: write-backs pending and failed, and the newest error.
    async fn writeback_counts(&self) -> Result<BTreeMap<String, WritebackCounts>, StoreError>;

    /// Answers when the database does.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Why this instance has not heard the other instances' events for a
    /// while (its follower's listener down for more than 5 s), if so.
    /// `None` (the default) for a store no other instance writes to.
    fn deafness(&self) -> Option<String> {
        None
    }

    /// For a store shared by several server instances: the task that
    /// publishes every instance's events in this instance, in seq order. `None` (the default) means this process is the only writer,
    /// and the writer publishes what it commits.
    fn follower(self: Arc<Self>) -> Option<Follower> {
        None
    }

    /// Deletes up to `batch` alerts resolved before `before`, oldest first,
    /// with their notes and history, in one short transaction, and gives
    /// the space back where the backend can. Returns how many went.
    async fn prune_resolved(
        &self,
        before: DateTime<Utc>,
        batch: usize,
    ) -> Result<usize, StoreError>;

    /// Every stored screen profile, by screen name.
    async fn profiles(&self) -> Result<BTreeMap<String, Profile>, StoreError>;

    /// The stored profile of the screens named `name`.
    async fn profile(&self, name: &str) -> Result<Option<Profile>, StoreError>;

    /// Sets each of `profiles` (a PUT: one; the screens file: every name it
    /// holds) in one transaction, and tells the other instances.
    async fn put_profiles(&self, profiles: &[(String, Profile)]) -> Result<(), StoreError>;

    /// Removes `name`'s profile and tells the other instances; false when
    /// there was none.
    async fn delete_profile(&self, name: &str) -> Result<bool, StoreError>;

    /// Tells every instance sharing the store that the screens named `name`
    /// are to identify themselves. A store of one instance has no one to
    /// tell.
    async fn identify(&self, _name: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// For a store shared by several instances: the task that announces
    /// every instance's screen news here. `None` (the default): the
    /// profile set announces its own changes.
    fn news_follower(self: Arc<Self>) -> Option<NewsFollower> {
        None
    }
}

/// Opens the store named by `url`, creating and migrating it as needed.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
