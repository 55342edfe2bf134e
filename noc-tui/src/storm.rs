//! A synthetic alert storm: the same events for the storm benchmark
//! (`noc-tui-storm`) and the storm test, so that what is measured is what
//! is checked.

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
