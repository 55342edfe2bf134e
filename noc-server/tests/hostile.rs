//! Hostile input: random bodies on every write endpoint never make the
//! server answer 5xx, store anything partial or answer what it did not
//! store; random frames on the WebSocket each get the reply the contract
//! gives them, and the server carries on.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use common::{INGEST, Screen, TestServer, alert};
use futures_util::{SinkExt, StreamExt};
use noc_shared::{ServerMessage, Severity, SnapshotReason};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// The token of the one user, for `POST /api/v1/alerts`.
const USER: &str = "hostile-user-token";

/// A text field's value: mostly strings, some far too long, some of the
/// wrong type, some of the words the contract gives meaning to.
fn field_value() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        "[a-zA-Z0-9 <>&\"'é\u{1F525}]{0,12}".prop_map(Value::from),
        "\\PC{0,300}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::from("x".repeat(5000))),
        Just(json!(["a"])),
        prop_oneof![
            Just("critical"),
            Just("Disaster"),
            Just("not classified"),
            Just("alert.resolved"),
            Just("alert.created")
        ]
        .prop_map(Value::from),
    ]
    .boxed()
}

/// A JSON object of up to `most` fields, each named from `names` and
/// given a [`field_value`].
fn object_of(names: &'static [&'static str], most: usize) -> impl Strategy<Value = Value> + Clone {
    let field = (prop::sample::select(names), field_value());
    prop::collection::vec(field, 0..=most)
        .prop_map(|pairs| {
            Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        })
        .boxed()
}

/// JSON shaped like an alert, with each field sometimes wrong.
fn alertish() -> impl Strategy<Value = Value> {
    let fields = &[
        "id", "site", "severity", "message", "host", "source", "event", "junk",
    ];
    let object = object_of(fields, 8);
    // Arrays mix valid alerts in, so that a refused array has some that
    // must not be stored.
    let entry = prop_oneof![2 => object.clone(), 1 => valid_alert()];
    prop_oneof![
        4 => object,
        2 => prop::collection::vec(entry, 0..5).prop_map(Value::Array),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(Value::Null),
    ]
}

/// A valid alert under a random id, so that every run stores some.
fn valid_alert() -> impl Strategy<Value = Value> {
    let severity = prop::sample::select(vec!["critical", "HIGH", "minor", "warning", "info"]);
    ("[a-z0-9-]{1,20}", "[A-Za-z]{1,12}", severity, "[a-z ]{0,30}").prop_map(
        |(id, site, severity, words)| {
            json!({"id": id, "site": site, "severity": severity, "message": format!("m {words}")})
        },
    )
}

/// JSON shaped like an Alertmanager or Grafana webhook, each part
/// sometimes wrong.
fn webhookish() -> impl Strategy<Value = Value> {
    let labels = &["alertname", "site", "severity", "instance", "junk"];
    let labels = prop_oneof![4 => object_of(labels, 4), 1 => field_value()];
    let status = prop_oneof![
        Just(json!("firing")),
        Just(json!("resolved")),
        field_value()
    ];
    let fingerprint = prop_oneof!["[0-9a-f]{16}".prop_map(Value::from), field_value(),];
    let entry = (
        prop::option::of(fingerprint),
        prop::option::of(labels),
        prop::option::of(status),
        prop::option::of(field_value()),
    )
        .prop_map(|(fingerprint, labels, status, summary)| {
            let mut entry = serde_json::Map::new();
            let parts = [
                ("fingerprint", fingerprint),
                ("labels", labels),
                ("status", status),
                ("annotations", summary.map(|s| json!({ "summary": s }))),
            ];
            for (name, value) in parts {
                if let Some(value) = value {
                    entry.insert(name.to_owned(), value);
                }
            }
            Value::Object(entry)
        });
    let alerts = prop_oneof![
        4 => prop::collection::vec(entry, 0..4).prop_map(Value::Array),
        1 => field_value(),
    ];
    (alerts, any::<bool>()).prop_map(|(alerts, grafana)| {
        let mut body = json!({ "version": "4", "alerts": alerts });
        if grafana {
            body["orgId"] = json!(1);
        }
        body
    })
}

/// A body for `path`: JSON shaped for it, valid now and then, or raw bytes
/// that are mostly not JSON.
fn body(path: &'static str) -> BoxedStrategy<Vec<u8>> {
    let json = |s: BoxedStrategy<Value>| s.prop_map(|v| v.to_string().into_bytes());
    let shaped = if path == "/internal/alertmanager" {
        webhookish().boxed()
    } else {
        prop_oneof![4 => alertish(), 1 => valid_alert()].boxed()
    };
    prop_oneof![
        5 => json(shaped),
        1 => json(alertish().boxed()),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
    .boxed()
}

/// Each write path and the token it takes.
const PATHS: [(&str, &str); 3] = [
    ("/internal/alerts", INGEST),
    ("/internal/alertmanager", INGEST),
    ("/api/v1/alerts", USER),
];

/// `id` as one percent-encoded path segment.
fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => char::from(b).into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every alert of a write's answer (one alert or an array), the last for
/// each id, as stored.
fn answered(answer: &Value) -> HashMap<String, Value> {
    let alerts = match answer {
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    };
    alerts
        .into_iter()
        .filter_map(|a| Some((a["id"].as_str()?.to_owned(), a)))
        .collect()
}

#[test]
fn random_bodies_never_answer_5xx_nor_store_anything_partial() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let users = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(
        users.path(),
        format!("[[user]]\nemail = \"op@noc.example\"\ntoken = \"{USER}\"\n"),
    )
    .expect("users file");
    let users = users.path().to_str().expect("utf-8").to_owned();
    let server = runtime.block_on(TestServer::start(&["--users-file", &users]));
    // What the store holds: its alerts, counted in the database (the list
    // API stops at 1000), and the last event's seq (an update changes no
    // count, but emits an event).
    let stored =
        || runtime.block_on(async { (server.alerts_in_store().await, server.last_seq().await) });
    let statuses: Mutex<HashMap<&str, BTreeSet<u16>>> = Mutex::default();
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let cases = prop::sample::select(PATHS.to_vec())
        .prop_flat_map(|(path, token)| (Just(path), Just(token), body(path)));
    runner
        .run(&cases, |(path, token, bytes)| {
            let before = stored();
            let (status, answer) = runtime.block_on(async {
                let response = server
                    .http
                    .post(server.url(path))
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .body(bytes.clone())
                    .send()
                    .await
                    .expect("the server answers");
                let status = response.status();
                (status, response.text().await.expect("body"))
            });
            let sent = String::from_utf8_lossy(&bytes);
            statuses
                .lock()
                .expect("lock")
                .entry(path)
                .or_default()
                .insert(status.as_u16());
            prop_assert!(!status.is_server_error(), "{status} for {sent}: {answer}");
            let parsed: Value = serde_json::from_str(&answer)
                .map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
            if !status.is_success() {
                prop_assert!(parsed["error"].is_string(), "{status}: {answer}");
                prop_assert_eq!(
                    stored(),
                    before,
                    "a refused request stored something or emitted an event: {}",
                    sent
                );
                return Ok(());
            }
            // A 2xx answer means the alerts it names are stored, as named.
            for (id, alert) in answered(&parsed) {
                let path = format!("/api/v1/alerts/{}", segment(&id));
                let stored = runtime.block_on(server.get_json(&path));
                prop_assert_eq!(&stored, &alert, "{} answered but stored otherwise", id);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // Every path was exercised past its token: bodies it stored, bodies
    // that were not JSON, and bodies it refused as invalid alerts.
    let statuses = statuses.into_inner().expect("lock");
    for (path, _) in PATHS {
        let seen = statuses.get(path).cloned().unwrap_or_default();
        println!("{path}: answered {seen:?}");
        for want in [200, 400, 422] {
            assert!(seen.contains(&want), "{path}: no {want} in {seen:?}");
        }
        assert!(!seen.contains(&401), "{path}: refused a token: {seen:?}");
    }
    runtime.block_on(server.stop_and_drop_database());
}

/// What the server answers to a frame.
#[derive(Debug, Clone)]
enum Reply {
    /// `{"event":"error"}`, and the connection stays open.
    Error,
    /// A snapshot for a subscribe: the site names (lower-cased; empty for
    /// all sites) and the minimum severity, `None` to keep the last one.
    Snapshot(BTreeSet<String>, Option<Severity>),
    /// A Pong frame with the Ping's payload.
    Pong(Vec<u8>),
    /// Nothing at all.
    Nothing,
}

/// A frame a client might send, and the reply it must get.
fn frame() -> impl Strategy<Value = (Message, Reply)> {
    let severity = prop_oneof![
        Just(("warning", Some(Severity::Warning))),
        Just(("Disaster", Some(Severity::Critical))),
        Just(("NOT CLASSIFIED", Some(Severity::Info))),
        Just(("apocalyptic", None)),
    ];
    let subscribe = (
        prop::collection::vec("[A-Za-z]{1,8}", 0..4),
        prop::option::of(severity),
    )
        .prop_map(|(sites, severity)| {
            let mut message = json!({ "subscribe": sites });
            let reply = match severity {
                Some((name, None)) => {
                    message["min_severity"] = json!(name);
                    Reply::Error
                }
                Some((name, Some(min))) => {
                    message["min_severity"] = json!(name);
                    Reply::Snapshot(sites.iter().map(|s| s.to_lowercase()).collect(), Some(min))
                }
                None => Reply::Snapshot(sites.iter().map(|s| s.to_lowercase()).collect(), None),
            };
            (Message::text(message.to_string()), reply)
        });
    let payload = || prop::collection::vec(any::<u8>(), 0..100);
    prop_oneof![
        "\\PC{0,200}".prop_map(|t| (Message::text(t), Reply::Error)),
        alertish().prop_map(|v| (Message::text(v.to_string()), Reply::Error)),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(|b| (Message::binary(b), Reply::Error)),
        subscribe,
        any::<Option<i64>>().prop_map(|ts| {
            let pong = json!({"event": "pong", "ts": ts}).to_string();
            (Message::text(pong), Reply::Nothing)
        }),
        payload().prop_map(|p| (Message::Ping(p.clone().into()), Reply::Pong(p))),
        payload().prop_map(|p| (Message::Pong(p.into()), Reply::Nothing)),
    ]
}

/// The next frame from the server that is not a heartbeat.
async fn next_reply(screen: &mut Screen) -> Message {
    loop {
        let frame = common::within("a reply", screen.ws.next())
            .await
            .expect("the connection stays open")
            .expect("a frame");
        match &frame {
            Message::Text(text) if text.as_str().contains(r#""event":"heartbeat""#) => continue,
            _ => return frame,
        }
    }
}

/// Checks `got` against the reply a frame must get; `min` is the screen's
/// minimum severity, which a subscribe without one keeps.
fn check_reply(got: &Message, want: &Reply, min: &mut Severity) -> Result<(), TestCaseError> {
    let text = |m: &Message| match m {
        Message::Text(t) => serde_json::from_str::<ServerMessage>(t.as_str()).ok(),
        _ => None,
    };
    match (want, text(got)) {
        (Reply::Error, Some(ServerMessage::Error { message })) => {
            prop_assert!(!message.is_empty(), "an error that says nothing");
        }
        (Reply::Snapshot(sites, severity), Some(ServerMessage::Snapshot(s))) => {
            *min = severity.unwrap_or(*min);
            let got_sites: BTreeSet<String> =
                s.sites.iter().flatten().map(|s| s.to_lowercase()).collect();
            prop_assert_eq!(s.reason, SnapshotReason::Subscribe);
            prop_assert_eq!(&got_sites, sites);
            prop_assert_eq!(s.sites.is_none(), sites.is_empty(), "null means all sites");
            prop_assert_eq!(s.min_severity, *min);
        }
        (Reply::Pong(payload), _) => {
            prop_assert!(
                matches!(got, Message::Pong(p) if p[..] == payload[..]),
                "expected a Pong with the Ping's payload, got {got:?}"
            );
        }
        _ => {
            return Err(TestCaseError::fail(format!(
                "expected {want:?}, got {got:?}"
            )));
        }
    }
    Ok(())
}

#[test]
fn random_frames_get_their_replies_and_the_server_carries_on() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(TestServer::start(&["--max-client-rate", "100000"]));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(frame(), 1..20), |frames| {
            runtime.block_on(async {
                let mut screen = Screen::connect(&server.ws_url("")).await;
                screen.snapshot().await;
                let mut min = Severity::Info;
                for (frame, _) in &frames {
                    screen.ws.send(frame.clone()).await.expect("send");
                }
                // The server reads frames in order and replies in order, so
                // a reply that should not be there takes the place of one
                // that should, or of the fence's snapshot at the end.
                let fence = Message::text(r#"{"subscribe":["fence"]}"#);
                screen.ws.send(fence).await.expect("send");
                let fence = Reply::Snapshot(BTreeSet::from(["fence".to_owned()]), None);
                for want in frames.iter().map(|(_, reply)| reply).chain([&fence]) {
                    if !matches!(want, Reply::Nothing) {
                        check_reply(&next_reply(&mut screen).await, want, &mut min)?;
                    }
                }
                Ok(())
            })
        })
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        // Still serving: health, and a new screen that gets a new alert.
        let health = server
            .http
            .get(server.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        assert_eq!(health.status(), 200);
        let mut screen = Screen::connect(&server.ws_url("")).await;
        screen.snapshot().await;
        server.post_ok(&alert("after", "A", "high")).await;
        let (_, got) = screen.next_alert().await;
        assert_eq!(got.id, "after");
        server.stop().await;
    });
}
