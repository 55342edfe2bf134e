//! The REST API's own shapes beyond the alert: notes, an alert's history,
//! silences and sources. The server answers with them and the screens read
//! them, so they are defined once, here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::EventKind;

/// A note an operator wrote on an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: u64,
    pub alert_id: String,
    /// The user's email.
    pub author: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// One step of an alert's life, as `GET /api/v1/alerts/{id}/history` lists
/// them, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The event's `seq` on the stream.
    pub seq: u64,
    pub event: EventKind,
    pub at: DateTime<Utc>,
    /// A user's email, a source's name, or `noc-server`.
    pub by: String,
    /// The note of an acknowledgement or a note event.
    #[serde(default)]
    pub note: Option<String>,
    /// Each changed field: `[before, after]`.
    #[serde(default)]
    pub changes: BTreeMap<String, (Value, Value)>,
    /// Why the server made the change by itself, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<crate::EventReason>,
}

/// How a silence matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MatchOp {
    #[serde(rename = "=")]
    Equal,
    #[serde(rename = "!=")]
    NotEqual,
    /// A regular expression that must match the whole value.
    #[serde(rename = "=~")]
    Regex,
    #[serde(rename = "!~")]
    NotRegex,
}

impl MatchOp {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }

    /// True for `!=` and `!~`.
    pub fn is_negative(self) -> bool {
        matches!(self, MatchOp::NotEqual | MatchOp::NotRegex)
    }
}

/// One condition of a silence: `name op value`, where `name` is `site`,
/// `host`, `source`, `severity`, `message` or `labels.<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
}

/// Where a silence is in its life, by the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    /// Before `starts_at`.
    Pending,
    Active,
    /// At or after `ends_at` (or deleted, which ends it now).
    Expired,
}

impl SilenceState {
    /// The state at `now` of a silence from `starts_at` to `ends_at`.
    pub fn at(now: DateTime<Utc>, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        if now < starts_at {
            SilenceState::Pending
        } else if now < ends_at {
            SilenceState::Active
        } else {
            SilenceState::Expired
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Pending => "pending",
            SilenceState::Active => "active",
            SilenceState::Expired => "expired",
        }
    }
}

/// A silence: matching alerts are hidden from screens while it is active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The user's email.
    pub created_by: String,
    pub comment: String,
    pub state: SilenceState,
}

/// Whether a source has been heard within its heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceState {
    Ok,
    /// Silent longer than its heartbeat: its `source-silent-…` alert is up.
    Silent,
    /// Never heard since it was configured.
    Never,
}

/// Write-backs of one source, as `GET /api/v1/sources` counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritebackCounts {
    pub pending: u64,
    pub failed: u64,
    pub last_error: Option<String>,
}

/// One source as `GET /api/v1/sources` lists it. Tokens never appear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub name: String,
    /// `zabbix`, `alertmanager`, `grafana` or `webhook`.
    pub kind: String,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The configured heartbeat, e.g. `"5m"`; `null` when not watched.
    pub heartbeat: Option<String>,
    pub state: SourceState,
    pub active_alerts: u64,
    pub writeback: WritebackCounts,
}
