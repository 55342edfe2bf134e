//! Durable storage of alerts behind one small trait, [`Store`], with one
//! module per backend; [`open`] picks the backend by the URL's scheme.
//!
//! The life of an alert (what a post, a resolve or an ack does to it and
//! which event that emits) is decided here once, in [`apply`], so every
//! backend behaves alike; backends only load and save rows.

mod postgres;
mod rows;
mod sqlite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use noc_shared::{Alert, EventKind, Severity, SiteFilter, Status};
use tokio_util::sync::CancellationToken;

use crate::hub::Hub;
use crate::ingest::AlertInput;

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

/// A write that the alert's state refuses (the request stores nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    NotFound(String),
}

/// One change asked of the store.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Create, update, re-open or resolve, as posted; `input.id` is set.
    Ingest(AlertInput),
    /// Acknowledge by a person.
    Ack { id: String, by: String },
}

impl WriteOp {
    /// The id of the alert this op changes.
    pub fn id(&self) -> &str {
        match self {
            WriteOp::Ingest(input) => input.id.as_deref().unwrap_or_default(),
            WriteOp::Ack { id, .. } => id,
        }
    }
}

/// A committed change, as the hub publishes it.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    /// Rises by one for every event, kept in the store across restarts.
    pub seq: u64,
    /// The alert after the change.
    pub alert: Alert,
    /// Site and severity before the change, when the alert existed: screens
    /// that showed it must hear that it moved away.
    pub before: Option<(String, Severity)>,
}

impl Event {
    /// The event of a change from `before` (if the alert existed) to `alert`.
    pub fn new(kind: EventKind, seq: u64, alert: &Alert, before: Option<&Alert>) -> Self {
        Event {
            kind,
            seq,
            alert: alert.clone(),
            before: before.map(|old| (old.site.clone(), old.severity)),
        }
    }
}

/// What one [`WriteOp`] did: the alert as stored, and its event if it
/// changed anything a screen shows.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub alert: Alert,
    pub event: Option<Event>,
}

/// Which alerts `GET /api/v1/alerts` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Active,
    Resolved,
    All,
}

/// A query of `GET /api/v1/alerts`, newest first.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: SiteFilter,
    pub status: StatusFilter,
    pub limit: usize,
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

/// A task that feeds a hub with every event committed by any instance
/// sharing the store, until the token is cancelled.
pub type Follower =
    Box<dyn FnOnce(Arc<Hub>, CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

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

    /// Answers when the database does.
    async fn ping(&self) -> Result<(), StoreError>;

    /// For a store shared by several server instances: the task that
    /// delivers every instance's events to this instance's hub, in seq
    /// order. `None` (the default) means this process is the only writer,
    /// and the writer publishes what it commits.
    fn follower(self: Arc<Self>) -> Option<Follower> {
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

/// The current time at the store's precision (milliseconds), so that what
/// is answered equals what is read back later.
pub fn now() -> DateTime<Utc> {
    let ms = Utc::now().timestamp_millis();
    DateTime::from_timestamp_millis(ms).unwrap_or_else(Utc::now)
}

/// Decides what `op` does to the alert `existing` (as stored, if any):
/// the alert to store and the event to emit, `None` when nothing changes.
/// This is the contract's "life of an id".
pub fn apply(
    existing: Option<&Alert>,
    op: &WriteOp,
    now: DateTime<Utc>,
) -> Result<(Alert, Option<EventKind>), WriteError> {
    match op {
        WriteOp::Ack { id, by } => {
            let mut alert = existing.cloned().ok_or_else(|| unknown(id))?;
            alert.acked_by = Some(by.clone());
            alert.acked_at = Some(now);
            alert.updated_at = now;
            Ok((alert, Some(EventKind::Acknowledged)))
        }
        WriteOp::Ingest(input) => {
            let id = input.id.clone().unwrap_or_default();
            match (existing, input.event) {
                (None, kind) => {
                    let alert = new_alert(id, input, now).ok_or_else(|| {
                        WriteError::NotFound(format!(
                            "unknown alert {:?}: to resolve an alert the server has not seen, give site, severity and message",
                            input.id.as_deref().unwrap_or_default()
                        ))
                    })?;
                    let alert = if kind == EventKind::Resolved {
                        resolved(alert, now)
                    } else {
                        alert
                    };
                    Ok((alert, Some(kind)))
                }
                (Some(old), EventKind::Resolved) if old.status == Status::Resolved => {
                    Ok((old.clone(), None))
                }
                (Some(old), EventKind::Resolved) => Ok((
                    resolved(updated(old, input, now), now),
                    Some(EventKind::Resolved),
                )),
                (Some(old), _) if old.status == Status::Resolved => {
                    let mut alert = updated(old, input, now);
                    alert.status = Status::Active;
                    alert.created_at = now;
                    alert.resolved_at = None;
                    alert.acked_by = None;
                    alert.acked_at = None;
                    Ok((alert, Some(EventKind::Created)))
                }
                (Some(old), _) => Ok((updated(old, input, now), Some(EventKind::Updated))),
            }
        }
    }
}

fn unknown(id: &str) -> WriteError {
    WriteError::NotFound(format!("unknown alert {id:?}"))
}

/// A new active alert, if the input has what an alert needs.
fn new_alert(id: String, input: &AlertInput, now: DateTime<Utc>) -> Option<Alert> {
    let source = input.source.clone().unwrap_or_else(|| "webhook".into());
    let alert = Alert::new(
        id,
        input.site.clone()?,
        input.severity?,
        input.message.clone()?,
        source,
        now,
    );
    Some(Alert {
        host: input.host.clone(),
        ..alert
    })
}

/// `old` with the fields that `input` gives.
fn updated(old: &Alert, input: &AlertInput, now: DateTime<Utc>) -> Alert {
    let mut alert = old.clone();
    if let Some(site) = &input.site {
        alert.site = site.clone();
    }
    if let Some(severity) = input.severity {
        alert.severity = severity;
    }
    if let Some(message) = &input.message {
        alert.message = message.clone();
    }
    if input.host.is_some() {
        alert.host = input.host.clone();
    }
    if let Some(source) = &input.source {
        alert.source = source.clone();
    }
    alert.updated_at = now;
    alert
}

fn resolved(mut alert: Alert, now: DateTime<Utc>) -> Alert {
    alert.status = Status::Resolved;
    alert.resolved_at = Some(now);
    alert.updated_at = now;
    alert
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(id: &str) -> WriteOp {
        WriteOp::Ingest(AlertInput {
            id: Some(id.into()),
            site: Some("A".into()),
            severity: Some(Severity::High),
            message: Some("down".into()),
            host: None,
            source: None,
            event: EventKind::Created,
        })
    }

    fn resolve(id: &str) -> WriteOp {
        WriteOp::Ingest(AlertInput::resolve(id))
    }

    #[test]
    fn life_of_an_id() {
        let t = now();
        let (a, kind) = apply(None, &created("x"), t).expect("create");
        assert_eq!(
            (kind, a.status, a.source.as_str()),
            (Some(EventKind::Created), Status::Active, "webhook")
        );
        let (a, kind) = apply(Some(&a), &created("x"), t).expect("update");
        assert_eq!(kind, Some(EventKind::Updated));
        let acked = apply(
            Some(&a),
            &WriteOp::Ack {
                id: "x".into(),
                by: "me@x".into(),
            },
            t,
        )
        .expect("ack")
        .0;
        assert_eq!(acked.acked_by.as_deref(), Some("me@x"));
        let (r, kind) = apply(Some(&acked), &resolve("x"), t).expect("resolve");
        assert_eq!(
            (kind, r.status, r.message.as_str()),
            (Some(EventKind::Resolved), Status::Resolved, "down")
        );
        assert_eq!(apply(Some(&r), &resolve("x"), t).expect("again").1, None);
        let (reopened, kind) = apply(Some(&r), &created("x"), t).expect("reopen");
        assert_eq!(
            (kind, reopened.status, reopened.acked_by),
            (Some(EventKind::Created), Status::Active, None)
        );
    }

    #[test]
    fn resolving_the_unknown() {
        let t = now();
        assert!(matches!(
            apply(None, &resolve("x"), t),
            Err(WriteError::NotFound(_))
        ));
        let WriteOp::Ingest(mut full) = created("x") else {
            unreachable!()
        };
        full.event = EventKind::Resolved;
        let (a, kind) = apply(None, &WriteOp::Ingest(full), t).expect("stored resolved");
        assert_eq!(
            (kind, a.status),
            (Some(EventKind::Resolved), Status::Resolved)
        );
        assert!(
            apply(
                None,
                &WriteOp::Ack {
                    id: "y".into(),
                    by: "me".into()
                },
                t
            )
            .is_err()
        );
    }
}
