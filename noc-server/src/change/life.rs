//! [`apply`]: what one [`WriteOp`] does to an alert as stored, purely. This
//! is the contract's "life of an id" with part two's order, expiry,
//! ownership and operators' actions.

use chrono::{DateTime, Utc};
use noc_shared::{Alert, EventKind, EventReason, Status};

use super::source_ack::AckOutcome;
use super::{Action, AlertInput, StoredAlert, WriteError, WriteOp, later};

/// What [`apply`] decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The alert to store (as it was, when nothing changes).
    pub stored: StoredAlert,
    /// The event to emit; `None` when nothing changes (and nothing is
    /// stored).
    pub kind: Option<EventKind>,
    /// Why the server changed it by itself, for the event and history.
    pub reason: Option<EventReason>,
    /// The write is older than the alert's last applied `at`.
    pub stale: bool,
    /// The note of an ack, or the text of a note (`alert.noted`).
    pub note: Option<String>,
}

impl Applied {
    fn changed(stored: StoredAlert, kind: EventKind) -> Self {
        Applied {
            stored,
            kind: Some(kind),
            reason: None,
            stale: false,
            note: None,
        }
    }

    fn unchanged(stored: &StoredAlert) -> Self {
        Applied {
            stored: stored.clone(),
            kind: None,
            reason: None,
            stale: false,
            note: None,
        }
    }

    fn because(mut self, reason: EventReason) -> Self {
        self.reason = Some(reason);
        self
    }

    fn with_note(mut self, note: Option<String>) -> Self {
        self.note = note;
        self
    }
}

/// Decides what `op` does to the alert `existing` (as stored, if any).
pub fn apply(
    existing: Option<&StoredAlert>,
    op: &WriteOp,
    now: DateTime<Utc>,
) -> Result<Applied, WriteError> {
    if let Action::Ingest(input) = &op.action {
        return ingest(existing, input, op.by.source(), now);
    }
    let old = existing.ok_or_else(|| unknown(op.id()))?;
    let mut new = old.clone();
    let alert = &mut new.alert;
    match &op.action {
        Action::Ingest(_) => unreachable!("handled above"),
        Action::Ack {
            note, expires_in, ..
        } => {
            refuse_resolved(alert, "acknowledged")?;
            alert.acked_by = Some(op.by.name().to_owned());
            alert.acked_at = Some(now);
            alert.ack_note = note.clone();
            alert.ack_expires_at = expires_in.map(|d| later(now, d));
            alert.updated_at = now;
            Ok(Applied::changed(new, EventKind::Acknowledged).with_note(note.clone()))
        }
        Action::Unack { .. } => {
            refuse_resolved(alert, "unacknowledged")?;
            if !alert.is_acked() {
                return Ok(Applied::unchanged(old));
            }
            clear_ack(alert, now);
            Ok(Applied::changed(new, EventKind::Unacknowledged))
        }
        Action::Note { text, .. } => {
            alert.notes = alert.notes.saturating_add(1);
            alert.updated_at = now;
            Ok(Applied::changed(new, EventKind::Noted).with_note(Some(text.clone())))
        }
        Action::Expire { .. } => {
            if !(alert.is_active() && alert.expires_at.is_some_and(|t| t <= now)) {
                return Ok(Applied::unchanged(old));
            }
            resolve(alert, now);
            Ok(Applied::changed(new, EventKind::Resolved).because(EventReason::Expired))
        }
        // What silences say is not for this pure step: the store applies it
        // to every op's result (`silence::mark`), this one's included.
        Action::Resilence { .. } => Ok(Applied::unchanged(old)),
        // Nor is the flapping rule, which needs the state before and after
        // (`flap::follow`).
        Action::FlapQuiet { .. } => Ok(Applied::unchanged(old)),
        Action::AckLapse { .. } => {
            if !(alert.is_active() && alert.ack_expires_at.is_some_and(|t| t <= now)) {
                return Ok(Applied::unchanged(old));
            }
            clear_ack(alert, now);
            Ok(Applied::changed(new, EventKind::Unacknowledged).because(EventReason::AckExpired))
        }
        Action::Writeback { writeback, .. } => {
            if alert.writeback == *writeback {
                return Ok(Applied::unchanged(old));
            }
            alert.writeback = writeback.clone();
            alert.updated_at = now;
            Ok(Applied::changed(new, EventKind::Updated).because(EventReason::Writeback))
        }
    }
}

/// A webhook or API write: create, update, re-open or resolve.
fn ingest(
    existing: Option<&StoredAlert>,
    input: &AlertInput,
    source: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Applied, WriteError> {
    let Some(old) = existing else {
        let alert = new_alert(input, now).ok_or_else(|| {
            WriteError::NotFound(format!(
                "unknown alert {:?}: to resolve an alert the server has not seen, give site, severity and message",
                input.id.as_deref().unwrap_or_default()
            ))
        })?;
        let mut stored = StoredAlert {
            alert,
            ttl: input.ttl,
            last_at: input.at,
            owner: source.map(str::to_owned),
            flap: super::flap::Flap::default(),
        };
        if input.event == EventKind::Resolved {
            resolve(&mut stored.alert, now);
        } else {
            stored.alert.expires_at = input.ttl.map(|ttl| later(now, ttl));
            // Already acked in the source: it arrives acked, still as new.
            if let Some(ack) = &input.ack {
                ack.apply(
                    &mut stored.alert,
                    source.unwrap_or("webhook"),
                    input.at,
                    now,
                );
            }
        }
        let note = stored.alert.ack_note.clone();
        return Ok(Applied::changed(stored, input.event).with_note(note));
    };
    if let (Some(owner), Some(source)) = (&old.owner, source) {
        if owner != source {
            return Err(WriteError::Conflict(format!(
                "alert {} belongs to source {owner}",
                old.alert.id
            )));
        }
    }
    if let (Some(at), Some(last)) = (input.at, old.last_at) {
        if at < last {
            let mut applied = Applied::unchanged(old);
            applied.stale = true;
            return Ok(applied);
        }
    }
    let mut new = old.clone();
    update(&mut new.alert, input, now);
    if input.at.is_some() {
        new.last_at = input.at;
    }
    let was_active = old.alert.is_active();
    let kind = match input.event {
        EventKind::Resolved if !was_active => return Ok(Applied::unchanged(old)),
        EventKind::Resolved => {
            resolve(&mut new.alert, now);
            EventKind::Resolved
        }
        _ if !was_active => {
            reopen(&mut new, input.ttl, now);
            EventKind::Created
        }
        _ => {
            new.alert.occurrences = new.alert.occurrences.saturating_add(1);
            new.alert.last_seen_at = now;
            if input.ttl.is_some() {
                new.ttl = input.ttl;
            }
            new.alert.expires_at = new.ttl.map(|ttl| later(now, ttl));
            EventKind::Updated
        }
    };
    // An ack made in the source rides on an update of an active alert
    // (the media type sends updates of resolved problems as resolves).
    let ack = match (&input.ack, kind) {
        (Some(ack), EventKind::Updated) => {
            ack.apply(&mut new.alert, source.unwrap_or("webhook"), input.at, now)
        }
        _ => AckOutcome::Same,
    };
    match ack {
        AckOutcome::Echo => Ok(Applied::unchanged(old)),
        AckOutcome::Event(kind) => {
            let note = new.alert.ack_note.clone();
            Ok(Applied::changed(new, kind).with_note(note))
        }
        AckOutcome::Same => Ok(Applied::changed(new, kind)),
    }
}

fn unknown(id: &str) -> WriteError {
    WriteError::NotFound(format!("unknown alert {id:?}"))
}

fn refuse_resolved(alert: &Alert, what: &str) -> Result<(), WriteError> {
    if alert.is_active() {
        Ok(())
    } else {
        Err(WriteError::Conflict(format!(
            "alert {} is resolved: it cannot be {what} (notes may still be added)",
            alert.id
        )))
    }
}

/// A new active alert, if the input has what an alert needs.
fn new_alert(input: &AlertInput, now: DateTime<Utc>) -> Option<Alert> {
    let source = input.source.clone().unwrap_or_else(|| "webhook".into());
    let alert = Alert::new(
        input.id.clone().unwrap_or_default(),
        input.site.clone()?,
        input.severity?,
        input.message.clone()?,
        source,
        now,
    );
    Some(Alert {
        host: input.host.clone(),
        description: input.description.clone(),
        url: input.url.clone(),
        labels: input.labels.clone().unwrap_or_default(),
        ..alert
    })
}

/// Sets on `alert` the fields that `input` gives.
fn update(alert: &mut Alert, input: &AlertInput, now: DateTime<Utc>) {
    fn set<T: Clone>(field: &mut T, value: &Option<T>) {
        if let Some(value) = value {
            *field = value.clone();
        }
    }
    set(&mut alert.site, &input.site);
    set(&mut alert.severity, &input.severity);
    set(&mut alert.message, &input.message);
    set(&mut alert.source, &input.source);
    set(&mut alert.labels, &input.labels);
    if input.host.is_some() {
        alert.host = input.host.clone();
    }
    if input.description.is_some() {
        alert.description = input.description.clone();
    }
    if input.url.is_some() {
        alert.url = input.url.clone();
    }
    alert.updated_at = now;
}

/// A resolved alert back to active, as new: counts, ack and expiry afresh.
fn reopen(stored: &mut StoredAlert, ttl: Option<std::time::Duration>, now: DateTime<Utc>) {
    let alert = &mut stored.alert;
    alert.status = Status::Active;
    alert.created_at = now;
    alert.resolved_at = None;
    alert.acked_by = None;
    alert.acked_at = None;
    alert.ack_note = None;
    alert.ack_expires_at = None;
    alert.occurrences = 1;
    alert.last_seen_at = now;
    stored.ttl = ttl;
    alert.expires_at = ttl.map(|ttl| later(now, ttl));
}

/// Resolves `alert`; nothing of it is due on a clock any more. The ack
/// stays, to show who handled it.
fn resolve(alert: &mut Alert, now: DateTime<Utc>) {
    alert.status = Status::Resolved;
    alert.resolved_at = Some(now);
    alert.updated_at = now;
    alert.expires_at = None;
    alert.ack_expires_at = None;
}

fn clear_ack(alert: &mut Alert, now: DateTime<Utc>) {
    alert.acked_by = None;
    alert.acked_at = None;
    alert.ack_note = None;
    alert.ack_expires_at = None;
    alert.updated_at = now;
}

#[cfg(test)]
#[path = "life_tests.rs"]
mod tests;
