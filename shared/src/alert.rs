//! The alert as the server stores it and sends it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Severity;

/// The site of an alert for every site: it reaches every screen, whatever
/// its site filter (its minimum severity still applies).
pub const EVERY_SITE: &str = "*";

/// Where a write-back of an operator's action to the alert's source stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WritebackState {
    /// Stored, not yet accepted by the source (it is retried with backoff).
    Pending,
    /// The source accepted it.
    Done,
    /// Given up after 24 hours of retries, or refused for good.
    Failed,
}

impl WritebackState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            WritebackState::Pending => "pending",
            WritebackState::Done => "done",
            WritebackState::Failed => "failed",
        }
    }
}

/// The last write-back of an operator's action on this alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Writeback {
    pub state: WritebackState,
    /// What the source answered, or why it could not be reached.
    #[serde(default)]
    pub error: Option<String>,
}

/// Whether an alert still needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Active,
    Resolved,
}

impl Status {
    /// The wire name, `active` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Resolved => "resolved",
        }
    }
}

/// One alert, with every field of the contract. Times are UTC and travel as
/// RFC 3339; optional fields are sent as `null` when unset, `labels` as
/// `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The source's own identity (a Zabbix event id, `am-<fingerprint>`) or
    /// one the server assigned.
    pub id: String,
    pub site: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default)]
    pub host: Option<String>,
    pub source: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub acked_by: Option<String>,
    #[serde(default)]
    pub acked_at: Option<DateTime<Utc>>,
    /// A longer text than the message, for the details view.
    #[serde(default)]
    pub description: Option<String>,
    /// A link back to the source's own page of this alert (`http(s)://`).
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Writes that reached the alert while active (1 at creation).
    #[serde(default = "one")]
    pub occurrences: u32,
    /// The latest of those writes.
    pub last_seen_at: DateTime<Utc>,
    /// When the alert resolves by itself (it was posted with a `ttl`).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ack_note: Option<String>,
    /// When the acknowledgement lapses by itself.
    #[serde(default)]
    pub ack_expires_at: Option<DateTime<Utc>>,
    /// The silence that hides this alert from screens, if any.
    #[serde(default)]
    pub silenced_by: Option<String>,
    /// Resolved and re-opened often lately: see the contract's rule.
    #[serde(default)]
    pub flapping: bool,
    /// How many notes operators wrote on it.
    #[serde(default)]
    pub notes: u32,
    /// The last write-back of an action to the source, `null` when none.
    #[serde(default)]
    pub writeback: Option<Writeback>,
}

fn one() -> u32 {
    1
}

impl Alert {
    /// A new active alert, created and updated at `at`, with no host and no
    /// acknowledgement. Set the rest with struct update syntax:
    /// `Alert { host: Some(h), ..Alert::new(…) }`.
    pub fn new(
        id: impl Into<String>,
        site: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
        source: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Alert {
        Alert {
            id: id.into(),
            site: site.into(),
            severity,
            message: message.into(),
            host: None,
            source: source.into(),
            status: Status::Active,
            created_at: at,
            updated_at: at,
            resolved_at: None,
            acked_by: None,
            acked_at: None,
            description: None,
            url: None,
            labels: BTreeMap::new(),
            occurrences: 1,
            last_seen_at: at,
            expires_at: None,
            ack_note: None,
            ack_expires_at: None,
            silenced_by: None,
            flapping: false,
            notes: 0,
            writeback: None,
        }
    }

    /// True while the alert needs attention.
    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }

    /// True once someone acknowledged it (and it was not re-opened since).
    pub fn is_acked(&self) -> bool {
        self.acked_at.is_some()
    }

    /// True while a silence hides it.
    pub fn is_silenced(&self) -> bool {
        self.silenced_by.is_some()
    }

    /// True for an alert of every site (`site` is `"*"`).
    pub fn is_everywhere(&self) -> bool {
        self.site == EVERY_SITE
    }

    /// The display order of every screen: most severe first, then newest,
    /// then by id so that the order is total and stable.
    pub fn display_order(a: &Alert, b: &Alert) -> std::cmp::Ordering {
        b.severity
            .cmp(&a.severity)
            .then(b.created_at.cmp(&a.created_at))
            .then(a.id.cmp(&b.id))
    }
}

/// An age or a span as every screen shows it (the contract's form): `42s`
/// under a minute, `17m` under an hour, `3h12m` under a day, then `2d5h`.
/// A time in the future (clocks apart) is `0s`.
pub fn age(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (mins, hours, days) = (secs / 60, secs / 3600, secs / 86_400);
    match secs {
        ..60 => format!("{secs}s"),
        60..3600 => format!("{mins}m"),
        3600..86_400 => format!("{hours}h{}m", mins % 60),
        _ => format!("{days}d{}h", hours % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_as_the_contract_writes_them() {
        let age_of = |s: i64| age(chrono::Duration::seconds(s));
        assert_eq!(age_of(-5), "0s");
        assert_eq!(age_of(42), "42s");
        assert_eq!(age_of(59), "59s");
        assert_eq!(age_of(60), "1m");
        assert_eq!(age_of(17 * 60 + 59), "17m");
        assert_eq!(age_of(3 * 3600 + 12 * 60 + 5), "3h12m");
        assert_eq!(age_of(3600), "1h0m");
        assert_eq!(age_of(2 * 86_400 + 5 * 3600 + 59 * 60), "2d5h");
    }
}
