//! A write batch's changes, held in memory and written at its end in a few
//! statements whatever their number: the alerts it read (one statement),
//! the alerts it changed (one upsert), their history rows (one insert).
//! A statement per alert cost a round trip to the database each (on
//! SQLite, two thread hand-offs to its worker), which was most of the
//! server's time on the write path.
//!
//! A request's changes go to its own [`Draft`] first and join the batch
//! only if the whole request is applied: a refused request leaves nothing,
//! with no savepoint.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use noc_shared::{Alert, HistoryEntry};

use super::outbox::Queued;
use crate::change::StoredAlert;

/// A write-back to queue, as `queue_writeback` takes it.
pub struct QueuedFor {
    pub alert: Alert,
    pub queued: Queued,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// What a request changed, kept apart until the whole request is applied.
#[derive(Default)]
pub struct Draft {
    alerts: HashMap<String, StoredAlert>,
    pub history: Vec<(String, HistoryEntry)>,
    pub outbox: Vec<QueuedFor>,
}

impl Draft {
    /// `stored` is the alert's state from now on.
    pub fn change(&mut self, stored: StoredAlert) {
        self.alerts.insert(stored.alert.id.clone(), stored);
    }
}

/// What the batch has read and changed and not yet written.
#[derive(Default)]
pub struct Pending {
    /// Every alert the batch read or changed, as it stands now; `None`:
    /// known not to exist.
    alerts: HashMap<String, Option<StoredAlert>>,
    /// The ids changed since the last write.
    changed: HashSet<String>,
    pub history: Vec<(String, HistoryEntry)>,
    pub outbox: Vec<QueuedFor>,
}

/// What is known of an alert.
pub enum Known<'a> {
    Stored(&'a StoredAlert),
    Absent,
    /// Not read yet: ask the store.
    Unread,
}

impl Pending {
    /// Alert `id` as `draft` and the batch have it.
    pub fn get<'a>(&'a self, draft: &'a Draft, id: &str) -> Known<'a> {
        if let Some(stored) = draft.alerts.get(id) {
            return Known::Stored(stored);
        }
        match self.alerts.get(id) {
            Some(Some(stored)) => Known::Stored(stored),
            Some(None) => Known::Absent,
            None => Known::Unread,
        }
    }

    /// Records what the store holds for `ids`: `found`, and none of the rest.
    pub fn read<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>, found: Vec<StoredAlert>) {
        for id in ids {
            self.alerts.entry(id.to_owned()).or_insert(None);
        }
        for stored in found {
            self.alerts.insert(stored.alert.id.clone(), Some(stored));
        }
    }

    /// The ids of `ids` not read yet, each once.
    pub fn unread<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let mut seen = HashSet::new();
        ids.into_iter()
            .filter(|id| !self.alerts.contains_key(*id) && seen.insert(*id))
            .collect()
    }

    /// The applied request's changes join the batch.
    pub fn keep(&mut self, draft: Draft) {
        for (id, stored) in draft.alerts {
            self.changed.insert(id.clone());
            self.alerts.insert(id, Some(stored));
        }
        self.history.extend(draft.history);
        self.outbox.extend(draft.outbox);
    }

    /// The alerts changed since they were last [`Pending::written`].
    pub fn changed(&self) -> Vec<&StoredAlert> {
        self.changed
            .iter()
            .filter_map(|id| self.alerts.get(id)?.as_ref())
            .collect()
    }

    /// The changed alerts are in the store now.
    pub fn written(&mut self) {
        self.changed.clear();
    }

    /// Forgets `ids`, changed in the store behind the batch's back (the
    /// silences' bulk path): read again when next asked for.
    pub fn forget<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            self.alerts.remove(id);
        }
    }

    /// Anything to write?
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.history.is_empty() && self.outbox.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Actor, AlertInput, WriteOp, apply};
    use noc_shared::Severity;

    fn stored(id: &str, message: &str) -> StoredAlert {
        let input = AlertInput {
            id: Some(id.into()),
            site: Some("Kilimanjaro".into()),
            severity: Some(Severity::High),
            message: Some(message.into()),
            ..AlertInput::default()
        };
        let op = WriteOp::new(Actor::Server, crate::change::Action::Ingest(input));
        apply(None, &op, Utc::now()).expect("a new alert").stored
    }

    fn message<'a>(known: Known<'a>) -> Option<&'a str> {
        match known {
            Known::Stored(s) => Some(&s.alert.message),
            Known::Absent => None,
            Known::Unread => Some("unread"),
        }
    }

    #[test]
    fn a_draft_is_seen_first_and_joins_only_when_kept() {
        let mut pending = Pending::default();
        pending.read(["a", "b"], vec![stored("a", "stored")]);
        let empty = Draft::default();
        assert_eq!(message(pending.get(&empty, "a")), Some("stored"));
        assert_eq!(message(pending.get(&empty, "b")), None, "read, absent");
        assert_eq!(message(pending.get(&empty, "c")), Some("unread"));
        assert_eq!(pending.unread(["a", "c", "c", "d"]), ["c", "d"]);

        let mut draft = Draft::default();
        draft.change(stored("a", "drafted"));
        assert_eq!(message(pending.get(&draft, "a")), Some("drafted"));
        // A refused request's draft is dropped: nothing changed.
        drop(draft);
        assert!(pending.is_clean());
        assert_eq!(message(pending.get(&empty, "a")), Some("stored"));

        let mut draft = Draft::default();
        draft.change(stored("b", "new"));
        pending.keep(draft);
        let changed = pending.changed();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].alert.message, "new");
        pending.written();
        assert!(pending.changed().is_empty(), "written once");
        assert_eq!(message(pending.get(&empty, "b")), Some("new"));

        pending.forget(["b"]);
        assert_eq!(message(pending.get(&empty, "b")), Some("unread"));
    }
}
