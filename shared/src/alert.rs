//! The alert as the server stores it and sends it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Severity;

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
/// RFC 3339; `host`, `resolved_at`, `acked_by` and `acked_at` are sent as
/// `null` when unset.
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

    /// The display order of every screen: most severe first, then newest,
    /// then by id so that the order is total and stable.
    pub fn display_order(a: &Alert, b: &Alert) -> std::cmp::Ordering {
        b.severity
            .cmp(&a.severity)
            .then(b.created_at.cmp(&a.created_at))
            .then(a.id.cmp(&b.id))
    }
}
