//! One JSON fixture per message: a change to the wire format must change a
//! fixture here, so it is always deliberate.

use chrono::{TimeZone, Utc};
use noc_shared::{
    Alert, ClientMessage, EventKind, ServerMessage, Severity, Snapshot, SnapshotReason,
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
        "acked_at": null
    })
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
fn alert_event_fixtures() {
    for kind in [
        EventKind::Created,
        EventKind::Updated,
        EventKind::Resolved,
        EventKind::Acknowledged,
    ] {
        let mut want = alert_json();
        want["event"] = json!(kind.as_str());
        want["seq"] = json!(42);
        round_trip(ServerMessage::alert(kind, 42, alert()), want);
    }
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
    });
    let want = json!({
        "event": "snapshot", "reason": "connect", "seq": 41, "sites": ["Kilimanjaro"],
        "min_severity": "info", "heartbeat_ms": 30000, "alerts": [alert_json()], "truncated": false
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
