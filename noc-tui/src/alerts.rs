//! [`AlertBook`]: the active alerts a screen holds, by id, with a sorted
//! index so that drawing never sorts or clones the list.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use noc_shared::{Alert, Severity};

/// Where an alert sits in the display order. Its `Ord` is the same as
/// [`Alert::display_order`] (most severe, then newest, then by id), which a
/// test checks, so the index iterates in screen order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OrderKey {
    severity: Reverse<Severity>,
    created_at: Reverse<DateTime<Utc>>,
    id: String,
}

impl OrderKey {
    fn of(alert: &Alert) -> Self {
        OrderKey {
            severity: Reverse(alert.severity),
            created_at: Reverse(alert.created_at),
            id: alert.id.clone(),
        }
    }
}

impl Ord for OrderKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.severity
            .cmp(&other.severity)
            .then_with(|| self.created_at.cmp(&other.created_at))
            .then_with(|| self.id.cmp(&other.id))
    }
}

impl PartialOrd for OrderKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The active alerts, by id, kept in display order. Inserting, replacing and
/// removing are `O(log n)`; iterating is in order with no sort and no
/// hashing (the screen walks the list several times a frame).
#[derive(Debug, Default, Clone)]
pub struct AlertBook {
    /// Where each alert sits in `order`.
    by_id: HashMap<String, OrderKey>,
    order: BTreeMap<OrderKey, Alert>,
    /// Alerts per severity, in [`Severity::ALL`] order, kept as alerts come
    /// and go so that the counts row costs nothing per frame.
    counts: [usize; 5],
    /// The acknowledged part of `counts`.
    acked: [usize; 5],
    /// The silenced part of `counts`.
    silenced: [usize; 5],
    /// The part of `counts` both acknowledged and silenced, so that hiding
    /// both never counts an alert twice.
    acked_silenced: [usize; 5],
    /// Alerts raised for silent sources, so that the banner's question
    /// ("is there one?") costs nothing per frame.
    source_silent: usize,
}

/// The `id` prefix and `source` of the alerts the server raises for a
/// source that fell silent.
pub const SOURCE_SILENT_PREFIX: &str = "source-silent-";
pub const SERVER_SOURCE: &str = "noc-server";

/// True for an alert the server raised because a source fell silent.
pub fn is_source_silent(alert: &Alert) -> bool {
    alert.source == SERVER_SOURCE && alert.id.starts_with(SOURCE_SILENT_PREFIX)
}

impl AlertBook {
    /// An empty book.
    pub fn new() -> Self {
        AlertBook::default()
    }

    /// Replaces the whole content, as a snapshot does.
    pub fn replace_all(&mut self, alerts: impl IntoIterator<Item = Alert>) {
        self.by_id.clear();
        self.order.clear();
        self.counts = [0; 5];
        self.acked = [0; 5];
        self.silenced = [0; 5];
        self.acked_silenced = [0; 5];
        self.source_silent = 0;
        for alert in alerts {
            self.upsert(alert);
        }
    }

    /// Inserts or replaces the alert with this id; returns the old one.
    pub fn upsert(&mut self, alert: Alert) -> Option<Alert> {
        let old = self.remove(&alert.id);
        self.tally(&alert, 1);
        let key = OrderKey::of(&alert);
        self.by_id.insert(alert.id.clone(), key.clone());
        self.order.insert(key, alert);
        old
    }

    /// Removes the alert with this id, if held.
    pub fn remove(&mut self, id: &str) -> Option<Alert> {
        let key = self.by_id.remove(id)?;
        let old = self.order.remove(&key)?;
        self.tally(&old, -1);
        Some(old)
    }

    /// Adds (`+1`) or takes away (`-1`) `alert` from the counts.
    fn tally(&mut self, alert: &Alert, sign: isize) {
        let rank = alert.severity.rank();
        self.counts[rank] = self.counts[rank].saturating_add_signed(sign);
        if is_source_silent(alert) {
            self.source_silent = self.source_silent.saturating_add_signed(sign);
        }
        let (acked, silenced) = (alert.is_acked(), alert.is_silenced());
        for (held, tally) in [
            (acked, &mut self.acked),
            (silenced, &mut self.silenced),
            (acked && silenced, &mut self.acked_silenced),
        ] {
            if held {
                tally[rank] = tally[rank].saturating_add_signed(sign);
            }
        }
    }

    /// Alerts per severity, most severe first.
    pub fn counts(&self) -> [usize; 5] {
        self.counts
    }

    /// Acknowledged alerts per severity, most severe first.
    pub fn acked_counts(&self) -> [usize; 5] {
        self.acked
    }

    /// Silenced alerts per severity, most severe first.
    pub fn silenced_counts(&self) -> [usize; 5] {
        self.silenced
    }

    /// Alerts both acknowledged and silenced, per severity.
    pub fn acked_silenced_counts(&self) -> [usize; 5] {
        self.acked_silenced
    }

    /// How many alerts raised for silent sources are held.
    pub fn source_silent_count(&self) -> usize {
        self.source_silent
    }

    /// The alert with this id.
    pub fn get(&self, id: &str) -> Option<&Alert> {
        self.order.get(self.by_id.get(id)?)
    }

    /// How many alerts are held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no alert is held.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Every alert, most severe first, then newest.
    pub fn iter(&self) -> impl Iterator<Item = &Alert> + '_ {
        self.order.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn alert(id: &str, severity: Severity, minute: u32) -> Alert {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 28, 19, minute, 0)
            .single()
            .expect("valid time");
        Alert::new(
            id,
            "Kilimanjaro",
            severity,
            format!("message {id}"),
            "test",
            t,
        )
    }

    #[test]
    fn iterates_in_the_shared_display_order() {
        let alerts = vec![
            alert("a", Severity::Info, 1),
            alert("b", Severity::Critical, 2),
            alert("c", Severity::Critical, 5),
            alert("d", Severity::Warning, 9),
            alert("e", Severity::Critical, 5),
            alert("f", Severity::High, 0),
        ];
        let mut want = alerts.clone();
        want.sort_by(Alert::display_order);
        let mut book = AlertBook::new();
        book.replace_all(alerts);
        let got: Vec<&str> = book.iter().map(|a| a.id.as_str()).collect();
        let want: Vec<&str> = want.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(got, want);
        assert_eq!(got, ["c", "e", "b", "f", "d", "a"]);
    }

    #[test]
    fn upsert_moves_an_alert_when_its_severity_changes() {
        let mut book = AlertBook::new();
        book.upsert(alert("a", Severity::Info, 1));
        book.upsert(alert("b", Severity::Warning, 1));
        let old = book.upsert(alert("a", Severity::Critical, 1));
        assert_eq!(old.map(|a| a.severity), Some(Severity::Info));
        assert_eq!(book.len(), 2);
        let ids: Vec<&str> = book.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(book.counts(), [1, 0, 0, 1, 0]);
        let mut acked = alert("b", Severity::Warning, 1);
        acked.acked_at = Some(acked.created_at);
        book.upsert(acked);
        assert_eq!(book.acked_counts(), [0, 0, 0, 1, 0]);
        assert!(book.remove("a").is_some());
        assert!(book.remove("a").is_none());
        assert_eq!(book.iter().count(), 1);
        assert_eq!(book.counts(), [0, 0, 0, 1, 0]);
        book.remove("b");
        assert_eq!((book.counts(), book.acked_counts()), ([0; 5], [0; 5]));
    }
}
