//! The model's tests, and the fixtures (a fixed clock, a config, alerts,
//! snapshot and event messages) other modules' tests share.

use chrono::TimeZone;
use clap::Parser;
use noc_shared::{Alert, EventKind, ServerMessage, Snapshot, SnapshotReason, Status};

use super::update::NOTICE_FOR;
use super::*;
use crate::cli::Cli;
use crate::net::NetEvent;

pub(crate) fn t0() -> Now {
    Now {
        instant: Instant::now(),
        wall: Utc
            .with_ymd_and_hms(2026, 11, 28, 21, 5, 9)
            .single()
            .expect("valid time"),
    }
}

pub(crate) fn config(args: &[&str]) -> Config {
    let mut argv = vec!["noc-tui", "--name", "wall-1"];
    argv.extend_from_slice(args);
    Config::from_cli(Cli::parse_from(argv)).expect("valid flags")
}

pub(crate) fn alert(id: &str, site: &str, severity: Severity, minute: u32) -> Alert {
    let t = Utc
        .with_ymd_and_hms(2026, 11, 28, 20, minute, 0)
        .single()
        .expect("valid time");
    Alert {
        host: Some(format!("host-{id}")),
        ..Alert::new(
            id,
            site,
            severity,
            format!("{} problem {id}", severity.as_str()),
            "test",
            t,
        )
    }
}

pub(crate) fn snapshot(alerts: Vec<Alert>) -> Msg {
    Msg::Net(NetEvent::Message(ServerMessage::Snapshot(Snapshot {
        reason: SnapshotReason::Connect,
        seq: 1,
        sites: None,
        min_severity: Severity::Info,
        heartbeat_ms: 30_000,
        alerts,
        truncated: false,
        profile: None,
    })))
}

pub(crate) fn event(kind: EventKind, alert: Alert) -> Msg {
    Msg::Net(NetEvent::Message(ServerMessage::alert(kind, 2, alert)))
}

fn act(action: Action) -> Msg {
    Msg::Action(action)
}

fn ids(app: &App) -> Vec<&str> {
    app.visible_alerts().map(|a| a.id.as_str()).collect()
}

#[test]
fn snapshot_replaces_the_list_and_events_apply() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    app.alerts.upsert(alert("old", "X", Severity::Info, 0));
    update(
        &mut app,
        snapshot(vec![
            alert("w", "Kilimanjaro", Severity::Warning, 1),
            alert("c", "Serengeti", Severity::Critical, 2),
        ]),
        now,
    );
    assert_eq!(ids(&app), ["c", "w"]);
    update(
        &mut app,
        event(EventKind::Created, alert("h", "Kampala", Severity::High, 3)),
        now,
    );
    assert_eq!(ids(&app), ["c", "h", "w"]);

    let mut resolved = alert("c", "Serengeti", Severity::Critical, 2);
    resolved.status = Status::Resolved;
    update(&mut app, event(EventKind::Resolved, resolved), now);
    assert_eq!(ids(&app), ["h", "w"]);

    let mut raised = alert("w", "Kilimanjaro", Severity::Critical, 1);
    raised.message = "now worse".into();
    update(&mut app, event(EventKind::Updated, raised), now);
    assert_eq!(ids(&app), ["w", "h"]);
    assert_eq!(
        app.alerts.get("w").map(|a| a.message.as_str()),
        Some("now worse")
    );
    assert_eq!(app.counts(), [1, 1, 0, 0, 0]);
}

#[test]
fn an_alert_that_leaves_the_filter_leaves_the_screen() {
    let now = t0();
    let mut app = App::new(&config(&["--sites", "Kilimanjaro"]), now);
    let mut snap = Snapshot {
        reason: SnapshotReason::Connect,
        seq: 1,
        sites: Some(vec!["Kilimanjaro".into()]),
        min_severity: Severity::Info,
        heartbeat_ms: 1000,
        alerts: vec![alert("a", "Kilimanjaro", Severity::High, 1)],
        truncated: false,
        profile: None,
    };
    snap.alerts
        .push(alert("b", "kilimanjaro", Severity::Info, 1));
    update(
        &mut app,
        Msg::Net(NetEvent::Message(ServerMessage::Snapshot(snap))),
        now,
    );
    assert_eq!(ids(&app), ["a", "b"]);
    update(
        &mut app,
        event(
            EventKind::Updated,
            alert("a", "Serengeti", Severity::High, 1),
        ),
        now,
    );
    assert_eq!(ids(&app), ["b"]);
}

#[test]
fn acknowledged_alerts_stay_and_can_be_hidden() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    update(
        &mut app,
        snapshot(vec![
            alert("a", "S", Severity::High, 1),
            alert("b", "S", Severity::High, 2),
        ]),
        now,
    );
    let mut acked = alert("a", "S", Severity::High, 1);
    acked.acked_by = Some("irene@example".into());
    acked.acked_at = Some(now.wall);
    update(&mut app, event(EventKind::Acknowledged, acked), now);
    assert_eq!(ids(&app), ["b", "a"]);
    update(&mut app, act(Action::ToggleAcked), now);
    assert_eq!(ids(&app), ["b"]);
    assert_eq!(app.hidden_acked(), 1);
    assert_eq!(app.counts(), [0, 1, 0, 0, 0]);
    update(&mut app, act(Action::ToggleAcked), now);
    assert_eq!(ids(&app), ["b", "a"]);
}

#[test]
fn quit_quits_and_nothing_else_does() {
    let mut app = App::new(&config(&[]), t0());
    for action in [
        Action::Help,
        Action::Close,
        Action::SwitchView,
        Action::ToggleAcked,
        Action::ReconnectNow,
        Action::RowDown,
        Action::Last,
    ] {
        update(&mut app, act(action), t0());
        assert!(!app.quit, "{action:?}");
    }
    update(&mut app, act(Action::Quit), t0());
    assert!(app.quit);
}

#[test]
fn scrolling_is_clamped_to_the_list() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    update(
        &mut app,
        Msg::Resize {
            width: 80,
            height: 20,
        },
        now,
    );
    let page = app.page_rows();
    let alerts = (0..50)
        .map(|i| alert(&format!("a{i:02}"), "S", Severity::Info, i % 60))
        .collect();
    update(&mut app, snapshot(alerts), now);
    update(&mut app, act(Action::PageDown), now);
    assert_eq!(app.scroll, page);
    update(&mut app, act(Action::Last), now);
    assert_eq!(app.scroll, 50 - page);
    update(&mut app, act(Action::RowDown), now);
    assert_eq!(app.scroll, 50 - page);
    update(&mut app, act(Action::First), now);
    update(&mut app, act(Action::RowUp), now);
    assert_eq!(app.scroll, 0);
    // A shorter list pulls the scroll back when drawn, and at the next key.
    update(&mut app, act(Action::Last), now);
    update(
        &mut app,
        snapshot(vec![alert("x", "S", Severity::Info, 0)]),
        now,
    );
    assert_eq!(app.first_row(app.visible_count()), 0);
    update(&mut app, act(Action::RowUp), now);
    assert_eq!(app.scroll, 0);
}

#[test]
fn new_critical_stands_out_for_a_few_seconds_and_rings_the_bell() {
    let now = t0();
    let mut app = App::new(&config(&["--bell", "high"]), now);
    update(&mut app, snapshot(vec![]), now);
    let fx = update(
        &mut app,
        event(EventKind::Created, alert("c", "S", Severity::Critical, 1)),
        now,
    );
    assert!(fx.bell);
    assert!(app.is_highlighted("c"));
    let fx = update(
        &mut app,
        event(EventKind::Created, alert("w", "S", Severity::Warning, 1)),
        now,
    );
    assert!(!fx.bell, "below the bell level");
    assert!(!app.is_highlighted("w"));
    // A repeat of the same critical neither rings nor refreshes.
    let fx = update(
        &mut app,
        event(EventKind::Updated, alert("c", "S", Severity::Critical, 1)),
        now,
    );
    assert!(!fx.bell);
    let later = now.plus(HIGHLIGHT_FOR + Duration::from_millis(1));
    update(&mut app, Msg::Tick, later);
    assert!(!app.is_highlighted("c"));
    assert!(app.highlights.is_empty());
}

#[test]
fn no_bell_unless_asked_and_none_for_snapshots() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    let fx = update(
        &mut app,
        event(EventKind::Created, alert("c", "S", Severity::Critical, 1)),
        now,
    );
    assert!(!fx.bell);
    let mut app = App::new(&config(&["--bell", "info"]), now);
    let fx = update(
        &mut app,
        snapshot(vec![alert("c", "S", Severity::Critical, 1)]),
        now,
    );
    assert!(!fx.bell);
    assert!(!app.is_highlighted("c"), "snapshot alerts are not new");
}

#[test]
fn disconnect_keeps_alerts_marked_stale_until_the_next_snapshot() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    update(
        &mut app,
        snapshot(vec![alert("a", "S", Severity::High, 1)]),
        now,
    );
    update(
        &mut app,
        Msg::Net(NetEvent::Disconnected {
            url: "ws://h/ws/alerts".into(),
            reason: "connection reset".into(),
            retry_in: Duration::from_secs(4),
        }),
        now,
    );
    assert!(app.stale);
    assert_eq!(ids(&app), ["a"]);
    match &app.link {
        Link::Disconnected { retry_at, .. } => {
            assert_eq!(*retry_at, now.plus(Duration::from_secs(4)).instant);
        }
        other => panic!("unexpected link state {other:?}"),
    }
    update(
        &mut app,
        Msg::Net(NetEvent::Connected {
            url: "ws://h/ws/alerts".into(),
        }),
        now,
    );
    assert!(app.stale, "stale until the snapshot replaces the list");
    update(&mut app, snapshot(vec![]), now);
    assert!(!app.stale);
    assert!(app.alerts.is_empty());
}

#[test]
fn heartbeat_is_recorded_and_error_shown_for_a_while() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    update(
        &mut app,
        Msg::Net(NetEvent::Message(ServerMessage::Heartbeat { ts: 1 })),
        now,
    );
    assert_eq!(app.last_heartbeat, Some(now.instant));
    update(
        &mut app,
        Msg::Net(NetEvent::Message(ServerMessage::Error {
            message: "bad".into(),
        })),
        now,
    );
    assert!(app.notice.is_some());
    update(&mut app, Msg::Tick, now.plus(NOTICE_FOR));
    assert!(app.notice.is_none());
}

#[test]
fn view_switch_help_and_reconnect() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    let alerts = (0..50)
        .map(|i| alert(&format!("a{i:02}"), "S", Severity::Info, i))
        .collect();
    update(&mut app, snapshot(alerts), now);
    update(&mut app, act(Action::PageDown), now);
    assert_eq!(app.scroll, app.page_rows());
    update(&mut app, act(Action::SwitchView), now);
    assert_eq!(app.view, View::Sites);
    assert_eq!(app.scroll, 0, "a new view starts at its top");
    let fx = update(&mut app, act(Action::Help), now);
    assert_eq!(app.mode, Mode::Help);
    assert!(fx.redraw);
    update(&mut app, act(Action::Close), now);
    assert_eq!(app.mode, Mode::Browse);
    update(&mut app, act(Action::SwitchView), now);
    assert_eq!(app.view, View::Alerts);
    let fx = update(&mut app, act(Action::ReconnectNow), now);
    assert!(fx.reconnect_now);
    assert!(fx.redraw);
}

#[test]
fn unused_alert_event_body_is_ignored() {
    // `AlertEvent` is only reachable through `ServerMessage`; make sure a
    // resolved event for an unknown id is harmless.
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    let mut a = alert("ghost", "S", Severity::High, 1);
    a.status = Status::Resolved;
    let msg = ServerMessage::alert(EventKind::Resolved, 9, a);
    update(&mut app, Msg::Net(NetEvent::Message(msg)), now);
    assert!(app.alerts.is_empty());
}

mod actions;
mod part_two;
