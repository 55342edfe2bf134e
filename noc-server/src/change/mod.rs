//! The change itself, below the store: who asks and what ([`WriteOp`],
//! [`Actor`], [`Action`], [`AlertInput`]), and what it does to an alert
//! ([`apply`], the contract's "life of an id"), decided here once and
//! purely, so that every store backend behaves alike and the rules are
//! tested without I/O.
//!
//! - [`input`]: an alert change as posted, validated from JSON.
//! - [`life`]: [`apply`] itself.
//! - [`source_ack`]: an ack made in the source, as posted and applied.
//! - [`diff`]: the `changes` of a history entry.
//! - [`flap`]: the flapping rule, purely, and [`flap::follow`], which the
//!   store applies to every op's result.

pub mod diff;
pub mod flap;
pub mod input;
pub mod life;
pub mod source_ack;

use std::time::Duration;

use chrono::{DateTime, Utc};
use noc_shared::{Alert, Note};

use crate::event::Event;

pub use input::{AlertInput, MAX_HOST, MAX_ID, MAX_MESSAGE, MAX_SITE, MAX_SOURCE};
pub use life::{Applied, apply};
pub use source_ack::SourceAck;

/// The name history gives the server's own changes (expiry, lapses).
pub const SERVER: &str = "noc-server";

/// A write that the alert's state refuses (the request stores nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Unknown alert: 404.
    #[error("{0}")]
    NotFound(String),
    /// The alert's state or owner refuses it: 409.
    #[error("{0}")]
    Conflict(String),
}

/// Who makes a change: history's `by`, and whose alerts a source may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, by email.
    User(String),
    /// A monitoring system, by its source name (`webhook` for the ingest
    /// token).
    Source(String),
    /// The server itself: a clock ran out.
    Server,
}

impl Actor {
    /// The name history shows: an email, a source's name, or `noc-server`.
    pub fn name(&self) -> &str {
        match self {
            Actor::User(email) => email,
            Actor::Source(name) => name,
            Actor::Server => SERVER,
        }
    }

    /// The source's name, for a source.
    pub fn source(&self) -> Option<&str> {
        match self {
            Actor::Source(name) => Some(name),
            _ => None,
        }
    }
}

/// What is asked of one alert.
#[derive(Debug, Clone)]
pub enum Action {
    /// Create, update, re-open or resolve, as posted; `input.id` is set.
    Ingest(AlertInput),
    /// Acknowledge, with an optional note and a time for it to lapse.
    Ack {
        id: String,
        note: Option<String>,
        expires_in: Option<Duration>,
    },
    /// Take the acknowledgement back.
    Unack { id: String },
    /// Add a note.
    Note { id: String, text: String },
    /// The clock: resolve the alert if its `expires_at` has come.
    Expire { id: String },
    /// The clock: drop the acknowledgement if its `ack_expires_at` has come.
    AckLapse { id: String },
    /// A silence started or ended: set `silenced_by` to what the live
    /// silences say now (the store decides it; see `silence::mark`).
    Resilence { id: String },
    /// The write-back worker: where the alert's write-back now stands.
    Writeback {
        id: String,
        writeback: Option<noc_shared::Writeback>,
    },
    /// The clock: end the alert's flapping if it has stayed in one state
    /// for the window (the store decides it; see `flap::follow`).
    FlapQuiet { id: String },
}

/// One change asked of the store, and who asks it.
#[derive(Debug, Clone)]
pub struct WriteOp {
    pub by: Actor,
    pub action: Action,
}

impl WriteOp {
    pub fn new(by: Actor, action: Action) -> Self {
        WriteOp { by, action }
    }

    /// The id of the alert this op changes.
    pub fn id(&self) -> &str {
        match &self.action {
            Action::Ingest(input) => input.id.as_deref().unwrap_or_default(),
            Action::Ack { id, .. }
            | Action::Unack { id }
            | Action::Note { id, .. }
            | Action::Expire { id }
            | Action::AckLapse { id }
            | Action::Resilence { id }
            | Action::Writeback { id, .. }
            | Action::FlapQuiet { id } => id,
        }
    }
}

/// An alert as the store keeps it: what screens see, and what only the
/// server needs to decide the next change.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    pub alert: Alert,
    /// The last `ttl` given; a later write without one moves `expires_at`
    /// by it.
    pub ttl: Option<Duration>,
    /// The latest `at` applied; a write with an older one is stale.
    pub last_at: Option<DateTime<Utc>>,
    /// The source that created it; `None` for users, the server and
    /// alerts stored before sources owned them.
    pub owner: Option<String>,
    /// What the flapping rule keeps; `flap.flapping` is `alert.flapping`.
    pub flap: flap::Flap,
}

impl StoredAlert {
    /// `alert` with nothing else known.
    pub fn new(alert: Alert) -> Self {
        StoredAlert {
            alert,
            ttl: None,
            last_at: None,
            owner: None,
            flap: flap::Flap::default(),
        }
    }
}

/// What one [`WriteOp`] did: the alert as stored, and its event if it
/// changed anything a screen shows.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub alert: Alert,
    pub event: Option<Event>,
    /// The `alert.updated` (reason `flapping`) that follows `event` when
    /// this change made the alert start flapping.
    pub flapping: Option<Event>,
    /// The write carried an `at` older than the alert's last: nothing was
    /// stored, `alert` is as it was.
    pub stale: bool,
    /// The note an `Action::Note` added.
    pub note: Option<Note>,
}

impl Outcome {
    /// Its events, in seq order.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.event.iter().chain(&self.flapping)
    }
}

/// The current time at the store's precision (milliseconds), so that what
/// is answered equals what is read back later.
pub fn now() -> DateTime<Utc> {
    millis(Utc::now())
}

/// `t` cut to milliseconds, the store's precision.
pub fn millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// `t + d`, saturating far in the future rather than overflowing.
pub fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
