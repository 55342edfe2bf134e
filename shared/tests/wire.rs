//! One JSON fixture per message: a change to the wire format must change a
//! fixture here, so it is always deliberate.

use chrono::{TimeZone, Utc};
use noc_shared::{
    Alert, AlertEvent, Bell, ClientMessage, EventKind, EventReason, HistoryEntry, MatchOp, Matcher,
    Note, Profile, ProfileView, ServerMessage, Severity, Silence, SilenceState, Snapshot,
    SnapshotReason, SourceInfo, SourceState, Writeback, WritebackCounts, WritebackState,
};
use serde_json::{Value, json};

fn alert() -> Alert {
    let t = Utc
        .with_ymd_and_hms(2026, 11, 28, 19, 40, 0)
        .single()
        .expect("valid time");
    Alert {
        host: Some("sw-01.kili".into()),
        ..Alert::new(
            "zbx-48213",
            "Kilimanjaro",
            Severity::Critical,
            "Core switch sw-01 unreachable",
            "zabbix",
            t,
        )
    }
}

fn alert_json() -> Value {
    json!({
        "id": "zbx-48213",
        "site": "Kilimanjaro",
        "severity": "critical",
        "message": "Core switch sw-01 unreachable",
        "host": "sw-01.kili",
        "source": "zabbix",
        "status": "active",
        "created_at": "2026-11-28T19:40:00Z",
        "updated_at": "2026-11-28T19:40:00Z",
        "resolved_at": null,
        "acked_by": null,
        "acked_at": null,
        "description": null,
        "url": null,
        "labels": {},
        "occurrences": 1,
        "last_seen_at": "2026-11-28T19:40:00Z",
        "expires_at": null,
        "ack_note": null,
        "ack_expires_at": null,
        "silenced_by": null,
        "flapping": false,
        "notes": 0,
        "writeback": null
    })
}

fn t(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 19, minute, 0)
        .single()
        .expect("valid time")
}

/// Serializes `msg`, compares with `want`, and parses `want` back to `msg`.
fn round_trip(msg: ServerMessage, want: Value) {
    let got: Value = serde_json::from_str(&msg.to_json()).expect("valid JSON");
    assert_eq!(got, want);
    let back: ServerMessage = serde_json::from_value(want).expect("parses back");
    assert_eq!(back, msg);
}

#[test]
fn alert_fixture() {
    assert_eq!(
        serde_json::to_value(alert()).expect("serializes"),
        alert_json()
    );
}

#[test]
fn alert_with_part_two_fields_fixture() {
    let mut a = alert();
    a.description = Some("Interface Gi0/1 down".into());
    a.url = Some("https://zabbix.example/tr_events.php?eventid=48213".into());
    a.labels.insert("zabbix.eventid".into(), "48213".into());
    a.occurrences = 3;
    a.ack_note = Some("on it".into());
    a.silenced_by = Some("s-1".into());
    a.flapping = true;
    a.notes = 2;
    a.writeback = Some(Writeback {
        state: WritebackState::Failed,
        error: Some("HTTP 500".into()),
    });
    let mut want = alert_json();
    want["description"] = json!("Interface Gi0/1 down");
    want["url"] = json!("https://zabbix.example/tr_events.php?eventid=48213");
    want["labels"] = json!({"zabbix.eventid": "48213"});
    want["occurrences"] = json!(3);
    want["ack_note"] = json!("on it");
    want["silenced_by"] = json!("s-1");
    want["flapping"] = json!(true);
    want["notes"] = json!(2);
    want["writeback"] = json!({"state": "failed", "error": "HTTP 500"});
    assert_eq!(serde_json::to_value(&a).expect("serializes"), want);
    let back: Alert = serde_json::from_value(want).expect("parses back");
    assert_eq!(back, a);
}

#[test]
fn alert_event_fixtures() {
    for kind in EventKind::ALL {
        let mut want = alert_json();
        want["event"] = json!(kind.as_str());
        want["seq"] = json!(42);
        round_trip(ServerMessage::alert(kind, 42, alert()), want);
    }
}

#[test]
fn events_with_a_reason_or_a_note() {
    let mut want = alert_json();
    want["event"] = json!("alert.resolved");
    want["seq"] = json!(43);
    want["reason"] = json!("expired");
    let event = AlertEvent {
        seq: 43,
        reason: Some(EventReason::Expired),
        note: None,
        alert: alert(),
    };
    round_trip(ServerMessage::alert_event(EventKind::Resolved, event), want);

    let note = Note {
        id: 7,
        alert_id: "zbx-48213".into(),
        author: "irene@sprinttz.example".into(),
        text: "fibre cut at the river".into(),
        created_at: t(45),
    };
    let mut want = alert_json();
    want["event"] = json!("alert.noted");
    want["seq"] = json!(44);
    want["note"] = json!({
        "id": 7, "alert_id": "zbx-48213", "author": "irene@sprinttz.example",
        "text": "fibre cut at the river", "created_at": "2026-11-28T19:45:00Z"
    });
    let event = AlertEvent {
        seq: 44,
        reason: None,
        note: Some(note),
        alert: alert(),
    };
    round_trip(ServerMessage::alert_event(EventKind::Noted, event), want);
    for (reason, name) in [
        (EventReason::AckExpired, "ack-expired"),
        (EventReason::Silence, "silence"),
        (EventReason::Flapping, "flapping"),
    ] {
        assert_eq!(serde_json::to_value(reason).ok(), Some(json!(name)));
    }
    let unknown: EventReason = serde_json::from_value(json!("from-the-future")).expect("lenient");
    assert_eq!(unknown, EventReason::Other);
}

fn profile() -> Profile {
    Profile {
        title: Some("Tanzania NOC".into()),
        sites: Some(vec!["Tanzania".into()]),
        min_severity: Some(Severity::Warning),
        view: Some(ProfileView::Rotate),
        rotate: Some("30s".into()),
        hide_acked: Some(true),
        show_silenced: Some(false),
        bell: Some(Bell::At(Severity::Critical)),
    }
}

fn profile_json() -> Value {
    json!({
        "title": "Tanzania NOC", "sites": ["Tanzania"], "min_severity": "warning",
        "view": "rotate", "rotate": "30s", "hide_acked": true, "show_silenced": false,
        "bell": "critical"
    })
}

#[test]
fn profile_identify_fixtures() {
    round_trip(
        ServerMessage::Profile {
            profile: Some(profile()),
        },
        json!({"event": "profile", "profile": profile_json()}),
    );
    round_trip(
        ServerMessage::Profile { profile: None },
        json!({"event": "profile", "profile": null}),
    );
    round_trip(ServerMessage::Identify, json!({"event": "identify"}));
    assert_eq!(
        profile().rotate_every(),
        Some(std::time::Duration::from_secs(30))
    );
    let off: Profile = serde_json::from_value(json!({"bell": "off"})).expect("parses");
    assert_eq!(off.bell, Some(Bell::Off));
    assert_eq!(off.title, None);
    assert!(serde_json::from_value::<Profile>(json!({"bell": "loud"})).is_err());
}

#[test]
fn api_shape_fixtures() {
    let silence = Silence {
        id: "s-1".into(),
        matchers: vec![
            Matcher {
                name: "site".into(),
                op: MatchOp::Equal,
                value: "Kilimanjaro".into(),
            },
            Matcher {
                name: "labels.team".into(),
                op: MatchOp::NotRegex,
                value: "core|edge".into(),
            },
        ],
        starts_at: t(40),
        ends_at: t(50),
        created_by: "irene@sprinttz.example".into(),
        comment: "maintenance".into(),
        state: SilenceState::Pending,
    };
    assert_eq!(
        serde_json::to_value(&silence).ok(),
        Some(json!({
            "id": "s-1",
            "matchers": [
                {"name": "site", "op": "=", "value": "Kilimanjaro"},
                {"name": "labels.team", "op": "!~", "value": "core|edge"}
            ],
            "starts_at": "2026-11-28T19:40:00Z", "ends_at": "2026-11-28T19:50:00Z",
            "created_by": "irene@sprinttz.example", "comment": "maintenance", "state": "pending"
        }))
    );
    assert_eq!(SilenceState::at(t(39), t(40), t(50)), SilenceState::Pending);
    assert_eq!(SilenceState::at(t(40), t(40), t(50)), SilenceState::Active);
    assert_eq!(SilenceState::at(t(50), t(40), t(50)), SilenceState::Expired);

    let mut changes = std::collections::BTreeMap::new();
    changes.insert(
        "acked_by".to_owned(),
        (json!(null), json!("irene@sprinttz.example")),
    );
    let entry = HistoryEntry {
        seq: 45,
        event: EventKind::Acknowledged,
        at: t(46),
        by: "irene@sprinttz.example".into(),
        note: Some("on it".into()),
        changes,
        reason: None,
    };
    assert_eq!(
        serde_json::to_value(&entry).ok(),
        Some(json!({
            "seq": 45, "event": "alert.acknowledged", "at": "2026-11-28T19:46:00Z",
            "by": "irene@sprinttz.example", "note": "on it",
            "changes": {"acked_by": [null, "irene@sprinttz.example"]}
        }))
    );

    let source = SourceInfo {
        name: "zabbix-dc1".into(),
        kind: "zabbix".into(),
        last_seen_at: None,
        heartbeat: Some("5m".into()),
        state: SourceState::Never,
        active_alerts: 0,
        writeback: WritebackCounts::default(),
    };
    assert_eq!(
        serde_json::to_value(&source).ok(),
        Some(json!({
            "name": "zabbix-dc1", "kind": "zabbix", "last_seen_at": null, "heartbeat": "5m",
            "state": "never", "active_alerts": 0,
            "writeback": {"pending": 0, "failed": 0, "last_error": null}
        }))
    );
}

#[test]
fn snapshot_fixture() {
    let msg = ServerMessage::Snapshot(Snapshot {
        reason: SnapshotReason::Connect,
        seq: 41,
        sites: Some(vec!["Kilimanjaro".into()]),
        min_severity: Severity::Info,
        heartbeat_ms: 30000,
        alerts: vec![alert()],
        truncated: false,
        profile: None,
    });
    let want = json!({
        "event": "snapshot", "reason": "connect", "seq": 41, "sites": ["Kilimanjaro"],
        "min_severity": "info", "heartbeat_ms": 30000, "alerts": [alert_json()], "truncated": false,
        "profile": null
    });
    round_trip(msg, want);
    let msg = ServerMessage::Snapshot(Snapshot {
        reason: SnapshotReason::Profile,
        seq: 41,
        sites: None,
        min_severity: Severity::Warning,
        heartbeat_ms: 30000,
        alerts: vec![],
        truncated: false,
        profile: Some(profile()),
    });
    let want = json!({
        "event": "snapshot", "reason": "profile", "seq": 41, "sites": null,
        "min_severity": "warning", "heartbeat_ms": 30000, "alerts": [], "truncated": false,
        "profile": profile_json()
    });
    round_trip(msg, want);
}

#[test]
fn heartbeat_and_error_fixtures() {
    round_trip(
        ServerMessage::Heartbeat { ts: 1764358800 },
        json!({"event": "heartbeat", "ts": 1764358800}),
    );
    round_trip(
        ServerMessage::Error {
            message: "bad".into(),
        },
        json!({"event": "error", "message": "bad"}),
    );
}

#[test]
fn client_message_fixtures() {
    let sub = ClientMessage::Subscribe {
        sites: vec!["Kilimanjaro".into(), "Serengeti".into()],
        min_severity: Some(Severity::Warning),
    };
    let text = r#"{"subscribe":["Kilimanjaro","Serengeti"],"min_severity":"warning"}"#;
    assert_eq!(ClientMessage::from_json(text), Ok(sub.clone()));
    assert_eq!(
        serde_json::from_str::<Value>(&sub.to_json()).ok(),
        serde_json::from_str::<Value>(text).ok()
    );
    let pong = ClientMessage::Pong {
        ts: Some(1764358800),
    };
    assert_eq!(
        ClientMessage::from_json(r#"{"event":"pong","ts":1764358800}"#),
        Ok(pong.clone())
    );
    assert_eq!(ClientMessage::from_json(&pong.to_json()), Ok(pong));
}

#[test]
fn bad_client_messages_say_what_was_expected() {
    for bad in [
        "nope",
        "[]",
        "{}",
        r#"{"event":"ping"}"#,
        r#"{"subscribe":"A"}"#,
        r#"{"subscribe":[],"min_severity":"bad"}"#,
    ] {
        let err = ClientMessage::from_json(bad).expect_err(bad);
        assert!(!err.0.is_empty(), "{bad}");
    }
}
