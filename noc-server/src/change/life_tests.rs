//! Tests of [`apply`]: the life of an id, order, expiry, ownership and the
//! operators' actions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use noc_shared::{EventKind, EventReason, Severity, Status};

use super::*;
use crate::change::{Action, Actor, AlertInput, StoredAlert, WriteError, WriteOp, now};

fn source(name: &str) -> Actor {
    Actor::Source(name.into())
}

fn user() -> Actor {
    Actor::User("me@x".into())
}

fn input(id: &str) -> AlertInput {
    AlertInput {
        id: Some(id.into()),
        site: Some("A".into()),
        severity: Some(Severity::High),
        message: Some("down".into()),
        ..AlertInput::default()
    }
}

fn ingest(input: AlertInput) -> WriteOp {
    WriteOp::new(source("webhook"), Action::Ingest(input))
}

fn created(id: &str) -> WriteOp {
    ingest(input(id))
}

fn resolve(id: &str) -> WriteOp {
    ingest(AlertInput::resolve(id))
}

fn at(input: AlertInput, t: DateTime<Utc>) -> AlertInput {
    AlertInput {
        at: Some(t),
        ..input
    }
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

/// Applies `op` and expects a change; returns the stored alert and kind.
fn step(old: Option<&StoredAlert>, op: &WriteOp, t: DateTime<Utc>) -> (StoredAlert, EventKind) {
    let applied = apply(old, op, t).expect("applies");
    (applied.stored, applied.kind.expect("a change"))
}

#[test]
fn life_of_an_id() {
    let t = now();
    let (a, kind) = step(None, &created("x"), t);
    assert_eq!(
        (kind, a.alert.status, a.alert.source.as_str()),
        (EventKind::Created, Status::Active, "webhook")
    );
    let (a, kind) = step(Some(&a), &created("x"), t);
    assert_eq!(kind, EventKind::Updated);
    let ack = WriteOp::new(
        user(),
        Action::Ack {
            id: "x".into(),
            note: Some("on it".into()),
            expires_in: None,
        },
    );
    let (acked, _) = step(Some(&a), &ack, t);
    assert_eq!(acked.alert.acked_by.as_deref(), Some("me@x"));
    assert_eq!(acked.alert.ack_note.as_deref(), Some("on it"));
    let (r, kind) = step(Some(&acked), &resolve("x"), t);
    assert_eq!(
        (kind, r.alert.status, r.alert.message.as_str()),
        (EventKind::Resolved, Status::Resolved, "down")
    );
    assert_eq!(apply(Some(&r), &resolve("x"), t).expect("again").kind, None);
    let (reopened, kind) = step(Some(&r), &created("x"), t);
    assert_eq!(
        (kind, reopened.alert.status, reopened.alert.acked_by),
        (EventKind::Created, Status::Active, None)
    );
}

#[test]
fn resolving_the_unknown() {
    let t = now();
    assert!(matches!(
        apply(None, &resolve("x"), t),
        Err(WriteError::NotFound(_))
    ));
    let full = AlertInput {
        event: EventKind::Resolved,
        ..input("x")
    };
    let (a, kind) = step(None, &ingest(full), t);
    assert_eq!(
        (kind, a.alert.status),
        (EventKind::Resolved, Status::Resolved)
    );
    let ack = WriteOp::new(user(), Action::Unack { id: "y".into() });
    assert!(matches!(apply(None, &ack, t), Err(WriteError::NotFound(_))));
}

#[test]
fn occurrences_count_writes_while_active_and_restart_on_reopen() {
    let t = now();
    let (a, _) = step(None, &created("x"), t);
    assert_eq!((a.alert.occurrences, a.alert.last_seen_at), (1, t));
    let (a, _) = step(Some(&a), &created("x"), t + secs(5));
    let (a, _) = step(Some(&a), &created("x"), t + secs(9));
    assert_eq!(
        (a.alert.occurrences, a.alert.last_seen_at),
        (3, t + secs(9))
    );
    let (r, _) = step(Some(&a), &resolve("x"), t + secs(10));
    assert_eq!(r.alert.occurrences, 3, "a resolve is no occurrence");
    let (again, _) = step(Some(&r), &created("x"), t + secs(20));
    assert_eq!(
        (again.alert.occurrences, again.alert.last_seen_at),
        (1, t + secs(20))
    );
}

#[test]
fn an_older_at_is_stale_and_no_at_keeps_the_last() {
    let t = now();
    let (a, _) = step(None, &ingest(at(input("x"), t)), t);
    let recovery = AlertInput {
        at: Some(t + secs(60)),
        ..AlertInput::resolve("x")
    };
    let (r, _) = step(Some(&a), &ingest(recovery), t + secs(61));
    assert_eq!(r.last_at, Some(t + secs(60)));
    // The problem's retry, arriving after its own recovery.
    let late = apply(
        Some(&r),
        &ingest(at(input("x"), t + secs(30))),
        t + secs(62),
    )
    .expect("answered");
    assert!(late.stale);
    assert_eq!((late.kind, late.stored), (None, r.clone()));
    // Without `at`: applied in arrival order, last_at as it was.
    let (reopened, kind) = step(Some(&r), &created("x"), t + secs(63));
    assert_eq!(kind, EventKind::Created);
    assert_eq!(reopened.last_at, Some(t + secs(60)));
    // The same `at` again is not older: applied.
    let same = apply(Some(&reopened), &ingest(at(input("x"), t + secs(60))), t).expect("same");
    assert!(!same.stale && same.kind.is_some());
}

#[test]
fn ttl_sets_expiry_and_later_writes_move_it() {
    let t = now();
    let with_ttl = AlertInput {
        ttl: Some(Duration::from_secs(60)),
        ..input("x")
    };
    let (a, _) = step(None, &ingest(with_ttl), t);
    assert_eq!(a.alert.expires_at, Some(t + secs(60)));
    // A later write without ttl moves it by the last ttl.
    let (a, _) = step(Some(&a), &created("x"), t + secs(30));
    assert_eq!(a.alert.expires_at, Some(t + secs(90)));
    let expire = WriteOp::new(Actor::Server, Action::Expire { id: "x".into() });
    let early = apply(Some(&a), &expire, t + secs(89)).expect("not yet");
    assert_eq!(early.kind, None, "not due yet: nothing happens");
    let due = apply(Some(&a), &expire, t + secs(90)).expect("due");
    assert_eq!(
        (due.kind, due.reason, due.stored.alert.status),
        (
            Some(EventKind::Resolved),
            Some(EventReason::Expired),
            Status::Resolved
        )
    );
    assert_eq!(due.stored.alert.expires_at, None);
    // Once resolved, a second instance's expiry finds nothing to do.
    let again = apply(Some(&due.stored), &expire, t + secs(91)).expect("again");
    assert_eq!(again.kind, None);
}

#[test]
fn an_ack_lapses_by_itself() {
    let t = now();
    let (a, _) = step(None, &created("x"), t);
    let ack = WriteOp::new(
        user(),
        Action::Ack {
            id: "x".into(),
            note: None,
            expires_in: Some(Duration::from_secs(7200)),
        },
    );
    let (acked, _) = step(Some(&a), &ack, t);
    assert_eq!(acked.alert.ack_expires_at, Some(t + secs(7200)));
    let lapse = WriteOp::new(Actor::Server, Action::AckLapse { id: "x".into() });
    assert_eq!(
        apply(Some(&acked), &lapse, t + secs(7199))
            .expect("early")
            .kind,
        None
    );
    let lapsed = apply(Some(&acked), &lapse, t + secs(7200)).expect("due");
    assert_eq!(
        (lapsed.kind, lapsed.reason),
        (
            Some(EventKind::Unacknowledged),
            Some(EventReason::AckExpired)
        )
    );
    let alert = &lapsed.stored.alert;
    assert!(alert.acked_by.is_none() && alert.ack_expires_at.is_none());
}

#[test]
fn unack_and_notes() {
    let t = now();
    let (a, _) = step(None, &created("x"), t);
    let unack = WriteOp::new(user(), Action::Unack { id: "x".into() });
    assert_eq!(apply(Some(&a), &unack, t).expect("not acked").kind, None);
    let note = WriteOp::new(
        user(),
        Action::Note {
            id: "x".into(),
            text: "called the ISP".into(),
        },
    );
    let noted = apply(Some(&a), &note, t).expect("noted");
    assert_eq!(noted.kind, Some(EventKind::Noted));
    assert_eq!(noted.note.as_deref(), Some("called the ISP"));
    assert_eq!(noted.stored.alert.notes, 1);
    // Resolved: notes yes, ack and unack no.
    let (r, _) = step(Some(&a), &resolve("x"), t);
    assert_eq!(
        apply(Some(&r), &note, t).expect("noted").stored.alert.notes,
        1
    );
    assert!(matches!(
        apply(Some(&r), &unack, t),
        Err(WriteError::Conflict(_))
    ));
    let ack = WriteOp::new(
        user(),
        Action::Ack {
            id: "x".into(),
            note: None,
            expires_in: None,
        },
    );
    assert!(matches!(
        apply(Some(&r), &ack, t),
        Err(WriteError::Conflict(_))
    ));
}

#[test]
fn an_alert_belongs_to_the_source_that_created_it() {
    let t = now();
    let by = |name: &str, input| WriteOp::new(source(name), Action::Ingest(input));
    let (a, _) = step(None, &by("zabbix-dc1", input("zbx-1")), t);
    assert_eq!(a.owner.as_deref(), Some("zabbix-dc1"));
    let Err(WriteError::Conflict(message)) = apply(Some(&a), &by("zabbix-dc2", input("zbx-1")), t)
    else {
        panic!("another source is refused");
    };
    assert_eq!(message, "alert zbx-1 belongs to source zabbix-dc1");
    step(Some(&a), &by("zabbix-dc1", input("zbx-1")), t);
    let by_user = WriteOp::new(user(), Action::Ingest(AlertInput::resolve("zbx-1")));
    let (r, _) = step(Some(&a), &by_user, t);
    assert_eq!(
        r.owner.as_deref(),
        Some("zabbix-dc1"),
        "users keep the owner"
    );
    let (mine, _) = step(None, &WriteOp::new(user(), Action::Ingest(input("u"))), t);
    assert_eq!(mine.owner, None);
}

#[test]
fn a_writeback_outcome_changes_the_alert_only_when_it_differs() {
    let t = now();
    let (a, _) = step(None, &created("x"), t);
    let done = Some(noc_shared::Writeback {
        state: noc_shared::WritebackState::Done,
        error: None,
    });
    let op = |writeback: Option<noc_shared::Writeback>| {
        WriteOp::new(
            Actor::Server,
            Action::Writeback {
                id: "x".into(),
                writeback,
            },
        )
    };
    let shown = apply(Some(&a), &op(done.clone()), t).expect("applies");
    assert_eq!(
        (shown.kind, shown.reason, &shown.stored.alert.writeback),
        (
            Some(EventKind::Updated),
            Some(noc_shared::EventReason::Writeback),
            &done
        )
    );
    let again = apply(Some(&shown.stored), &op(done), t).expect("applies");
    assert_eq!(again.kind, None, "the same outcome emits nothing");
}

fn zabbix_ack(acked: bool, note: Option<&str>) -> AlertInput {
    AlertInput {
        message: Some("down again".into()),
        ack: Some(Box::new(crate::change::SourceAck {
            acked,
            by: Some("Admin (Zabbix Administrator)".into()),
            note: note.map(str::to_owned),
        })),
        ..input("x")
    }
}

#[test]
fn an_ack_made_in_the_source_acks_as_its_user() {
    let t = now();
    let (a, _) = step(None, &created("x"), t);
    let when = t + secs(5);
    let ack = ingest(at(zabbix_ack(true, Some("on it")), when));
    let acked = apply(Some(&a), &ack, t + secs(9)).expect("applies");
    let alert = &acked.stored.alert;
    assert_eq!(acked.kind, Some(EventKind::Acknowledged));
    assert_eq!(
        alert.acked_by.as_deref(),
        Some("Admin (Zabbix Administrator)")
    );
    assert_eq!(alert.acked_at, Some(when), "acked when the source says");
    assert_eq!(alert.ack_note.as_deref(), Some("on it"));
    assert_eq!(alert.message, "down again", "the update's fields go too");
    assert_eq!(acked.note.as_deref(), Some("on it"));

    let again = ingest(at(zabbix_ack(true, None), t + secs(6)));
    let (same, kind) = step(Some(&acked.stored), &again, t + secs(10));
    assert_eq!(kind, EventKind::Updated, "no second ack event");
    assert_eq!(same.alert.acked_at, Some(when));

    let stale = ingest(at(zabbix_ack(false, None), t + secs(1)));
    let old = apply(Some(&same), &stale, t + secs(11)).expect("applies");
    assert!(old.stale && old.kind.is_none(), "at ordering still applies");

    let unack = ingest(at(zabbix_ack(false, None), t + secs(7)));
    let (cleared, kind) = step(Some(&same), &unack, t + secs(12));
    assert_eq!(kind, EventKind::Unacknowledged);
    assert_eq!(
        (&cleared.alert.acked_by, &cleared.alert.ack_note),
        (&None, &None)
    );
    let (_, kind) = step(Some(&cleared), &unack, t + secs(13));
    assert_eq!(kind, EventKind::Updated, "unacked again is a plain update");
}

#[test]
fn the_servers_own_ack_echoed_back_changes_nothing() {
    let t = now();
    let (a, _) = step(None, &created("x"), t);
    let by_user = WriteOp::new(
        user(),
        Action::Ack {
            id: "x".into(),
            note: None,
            expires_in: None,
        },
    );
    let (acked, _) = step(Some(&a), &by_user, t);
    let echo = ingest(zabbix_ack(true, Some("on it — me@x via NOC")));
    let applied = apply(Some(&acked), &echo, t + secs(1)).expect("applies");
    assert_eq!(applied.kind, None, "nothing emitted");
    assert_eq!(applied.stored, acked, "nothing changed");
}

#[test]
fn an_ack_never_reopens_a_resolved_alert_nor_acks_it() {
    let t = now();
    let (a, _) = step(None, &created("x"), t);
    let (r, _) = step(Some(&a), &resolve("x"), t);
    let late = ingest(AlertInput {
        event: EventKind::Resolved,
        ..zabbix_ack(true, None)
    });
    let applied = apply(Some(&r), &late, t + secs(1)).expect("applies");
    assert_eq!(applied.kind, None);
    assert_eq!(applied.stored.alert.acked_by, None);
}
