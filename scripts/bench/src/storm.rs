//! A synthetic alert storm: the same events for the storm benchmark
//! (`noc-tui-storm`) and the storm test (`tests/storm.rs`), so that what is
//! measured is what is checked; and [`Model`], what a screen that takes
//! every site and severity holds after them, told the plain way.

use std::collections::HashMap;

use chrono::Utc;
use noc_shared::{Alert, EventKind, Severity, Status};

/// Alert `i` of the storm's pool, at `status`.
pub fn alert(i: usize, severity: Severity, status: Status) -> Alert {
    Alert {
        host: Some(format!("rtr-{i}.example")),
        status,
        ..Alert::new(
            format!("storm-{i}"),
            format!("Site {}", i % 40),
            severity,
            format!("Interface ge-0/0/{} flapping on core router", i % 48),
            "storm",
            Utc::now(),
        )
    }
}

/// The snapshot a storm starts from: every alert of a pool of `pool`,
/// active, over all five severities.
pub fn snapshot_alerts(pool: usize) -> Vec<Alert> {
    (0..pool)
        .map(|i| alert(i, Severity::ALL[i % 5], Status::Active))
        .collect()
}

/// The n-th event of a storm over `pool` distinct alerts: mostly new and
/// changed alerts, some acknowledged, one in ten resolved.
pub fn event(n: usize, pool: usize) -> (EventKind, Alert) {
    let i = (n * 7919) % pool;
    let severity = Severity::ALL[n % 5];
    let (kind, status) = match n % 10 {
        0..=5 => (EventKind::Created, Status::Active),
        6 | 7 => (EventKind::Updated, Status::Active),
        8 => (EventKind::Acknowledged, Status::Active),
        _ => (EventKind::Resolved, Status::Resolved),
    };
    let mut a = alert(i, severity, status);
    if kind == EventKind::Acknowledged {
        a.acked_at = Some(a.updated_at);
    }
    if kind == EventKind::Resolved {
        a.resolved_at = Some(a.updated_at);
    }
    (kind, a)
}

/// What a screen that takes every site and severity holds: a resolved
/// alert goes, any other is stored as it came.
#[derive(Debug, Default)]
pub struct Model {
    alerts: HashMap<String, Alert>,
}

impl Model {
    /// The screen after a snapshot of `alerts`.
    pub fn new(alerts: &[Alert]) -> Self {
        Model {
            alerts: alerts.iter().map(|a| (a.id.clone(), a.clone())).collect(),
        }
    }

    /// The screen after the snapshot of a pool of `pool` and the first
    /// `events` events of the storm.
    pub fn replay(pool: usize, events: u64) -> Self {
        let mut model = Model::new(&snapshot_alerts(pool));
        for n in 0..events {
            let (kind, alert) = event(n as usize, pool);
            model.apply(kind, alert);
        }
        model
    }

    /// Applies one event.
    pub fn apply(&mut self, kind: EventKind, alert: Alert) {
        if kind == EventKind::Resolved || !alert.is_active() {
            self.alerts.remove(&alert.id);
        } else {
            self.alerts.insert(alert.id.clone(), alert);
        }
    }

    /// The alerts held, by id.
    pub fn alerts(&self) -> &HashMap<String, Alert> {
        &self.alerts
    }

    /// How `held` (what a screen holds) departs from the model in what the
    /// storm decides: which alerts, and each one's site, severity, status,
    /// acknowledgement, host and message. Times are left out: two plays of
    /// the same storm make them at different moments. One line per alert
    /// that differs; empty when they agree.
    pub fn differences<'a>(&self, held: impl IntoIterator<Item = &'a Alert>) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = 0;
        for alert in held {
            seen += 1;
            match self.alerts.get(&alert.id) {
                None => out.push(format!("{} is held but should be gone", alert.id)),
                Some(want) if !same_state(alert, want) => out.push(format!(
                    "{} is held as {:?}/{:?}/acked {}, should be {:?}/{:?}/acked {}",
                    alert.id,
                    alert.severity,
                    alert.status,
                    alert.is_acked(),
                    want.severity,
                    want.status,
                    want.is_acked()
                )),
                Some(_) => {}
            }
        }
        // Every held alert is in the model or listed above; the model's
        // others are missing from the screen.
        let listed_extra = out.iter().filter(|d| d.ends_with("gone")).count();
        let missing = (self.alerts.len() + listed_extra).saturating_sub(seen);
        if missing > 0 {
            out.push(format!("{missing} alerts of the model are not held"));
        }
        out
    }
}

fn same_state(a: &Alert, b: &Alert) -> bool {
    a.id == b.id
        && a.site == b.site
        && a.severity == b.severity
        && a.status == b.status
        && a.is_acked() == b.is_acked()
        && a.host == b.host
        && a.message == b.message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replayed_storm_agrees_with_itself_and_not_with_a_shorter_one() {
        let model = Model::replay(3000, 400);
        let again = Model::replay(3000, 400);
        assert_eq!(
            model.differences(again.alerts().values()),
            Vec::<String>::new()
        );
        // Events 400..410 change alerts the first 400 left otherwise (and
        // event 409 resolves one).
        let longer = Model::replay(3000, 410);
        assert!(!model.differences(longer.alerts().values()).is_empty());
    }

    #[test]
    fn tells_a_missing_an_extra_and_a_changed_alert() {
        let model = Model::new(&snapshot_alerts(3));
        let mut held = snapshot_alerts(3);
        held[1].severity = Severity::Info; // was ALL[1]
        held[2].id = "storm-99".into();
        let diffs = model.differences(&held);
        assert_eq!(diffs.len(), 3, "{diffs:?}");
        assert!(diffs[0].starts_with("storm-1 is held as"), "{diffs:?}");
        assert_eq!(diffs[1], "storm-99 is held but should be gone");
        assert_eq!(diffs[2], "1 alerts of the model are not held");
    }

    #[test]
    fn resolved_alerts_leave_the_model() {
        let mut model = Model::new(&snapshot_alerts(10));
        // Event 9 resolves an alert.
        let (kind, alert) = event(9, 10);
        assert_eq!(kind, EventKind::Resolved);
        model.apply(kind, alert.clone());
        assert!(!model.alerts().contains_key(&alert.id));
        assert_eq!(model.alerts().len(), 9);
    }
}
