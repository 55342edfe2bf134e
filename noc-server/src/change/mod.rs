//! The change itself, below the store: what a sender or a person asks
//! ([`AlertInput`], [`WriteOp`]), and what it does to an alert ([`apply`],
//! the contract's "life of an id"), decided here once and purely, so that
//! every store backend behaves alike and the rules are tested without I/O.
//!
//! - [`input`]: an alert change as posted, validated from JSON.

pub mod input;

use chrono::{DateTime, Utc};
use noc_shared::{Alert, EventKind, Status};

use crate::event::Event;

pub use input::{AlertInput, MAX_HOST, MAX_ID, MAX_MESSAGE, MAX_SITE, MAX_SOURCE};

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

/// What one [`WriteOp`] did: the alert as stored, and its event if it
/// changed anything a screen shows.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub alert: Alert,
    pub event: Option<Event>,
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
    use noc_shared::Severity;

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
