//! Write-back end to end through a real server: a source with `api_url`
//! in the sources file, a person's ack on the API becomes a silence in a
//! real Alertmanager, shown on the wall as `writeback` done; the person's
//! unack or resolve deletes it. With Alertmanager stopped the ack stays pending
//! (counted in `/api/v1/sources`), survives a restart of the server, and is
//! sent once Alertmanager is back.

mod common;

use std::time::{Duration, Instant};

use common::alertmanager::{Alertmanager, alertmanager_binary};
use common::{Screen, TestServer, skip_or_fail};
use noc_shared::{Alert, EventKind, EventReason, ServerMessage, WritebackState};
use serde_json::{Value, json};
use tempfile::TempDir;

const PROM: &str = "prom-token";
const IRENE: &str = "irene-token";

/// The sources file (Alertmanager at `am`, written back) and the users
/// file, in `dir`; the flags that name them.
fn files(dir: &TempDir, am: &str) -> Vec<String> {
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        format!(
            "[[source]]\nname = \"prom\"\nkind = \"alertmanager\"\ntoken = \"{PROM}\"\napi_url = \"{am}\"\n"
        ),
    )
    .expect("sources file");
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        format!("[[user]]\nemail = \"irene@sprinttz.example\"\ntoken = \"{IRENE}\"\n"),
    )
    .expect("users file");
    vec![
        "--sources-file".into(),
        sources.display().to_string(),
        "--users-file".into(),
        users.display().to_string(),
    ]
}

async fn start(files: &[String]) -> TestServer {
    let flags: Vec<&str> = files.iter().map(String::as_str).collect();
    TestServer::start(&flags).await
}

async fn post(server: &TestServer, token: &str, path: &str, body: &Value) -> Value {
    let response = server
        .http
        .post(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

async fn raise(server: &TestServer, id: &str) {
    post(
        server,
        PROM,
        "/internal/alerts",
        &json!({"id": id, "site": "Kilimanjaro", "severity": "critical",
            "message": "Uplink rtr-01 to Arusha is down",
            "labels": {"alertname": "LinkDown", "instance": "rtr-01.kili:9116"}}),
    )
    .await;
}

async fn silences(am: &str) -> Vec<Value> {
    let all: Value = reqwest::get(format!("{am}/api/v2/silences"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    all.as_array()
        .map(|a| {
            a.iter()
                .filter(|s| s["status"]["state"] == "active")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Polls until Alertmanager has no active silence.
async fn silences_gone(am: &str) {
    let start = Instant::now();
    while !silences(am).await.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the silence stays"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls until alert `id`'s write-back is `state`.
async fn writeback_becomes(server: &TestServer, id: &str, state: WritebackState) -> Alert {
    let start = Instant::now();
    loop {
        let alert = server.stored(id).await;
        if alert.writeback.as_ref().is_some_and(|w| w.state == state) {
            return alert;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "write-back of {id} never {state:?}: {alert:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn binary() -> Option<std::path::PathBuf> {
    let found = alertmanager_binary();
    if found.is_none() {
        skip_or_fail(
            "NOC_REQUIRE_ALERTMANAGER",
            "Alertmanager (prometheus-alertmanager)",
        );
    }
    found
}

#[tokio::test]
async fn an_ack_on_the_api_is_a_silence_in_alertmanager_until_unack_or_resolve() {
    let Some(binary) = binary() else { return };
    let am = Alertmanager::start(&binary, "http://127.0.0.1:9/").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&files(&dir, &am.base)).await;
    let mut screen = Screen::connect(&server.ws_url("sites=Kilimanjaro")).await;
    screen.snapshot().await;
    raise(&server, "am-1").await;
    screen.next_alert().await;

    let acked: Alert = serde_json::from_value(
        post(
            &server,
            IRENE,
            "/api/v1/alerts/am-1/ack",
            &json!({"note": "fibre cut", "expires_in": "2h"}),
        )
        .await,
    )
    .expect("an alert");
    assert_eq!(
        acked.writeback.map(|w| w.state),
        Some(WritebackState::Pending),
        "pending in the ack's answer"
    );
    assert_eq!(screen.next_alert().await.0, EventKind::Acknowledged);
    // The outcome reaches the wall as its own event.
    let ServerMessage::AlertUpdated(event) = screen.next().await else {
        panic!("alert.updated expected");
    };
    assert_eq!(event.reason, Some(EventReason::Writeback));
    assert_eq!(
        event.alert.writeback.map(|w| w.state),
        Some(WritebackState::Done)
    );

    let live = silences(&am.base).await;
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0]["createdBy"], "irene@sprinttz.example");
    assert_eq!(live[0]["comment"], "fibre cut");
    let ends = chrono::DateTime::parse_from_rfc3339(live[0]["endsAt"].as_str().expect("endsAt"))
        .expect("time");
    let lasts = ends.timestamp() - chrono::Utc::now().timestamp();
    assert!(
        (7_100..=7_200).contains(&lasts),
        "the silence ends with the ack: {lasts}s"
    );

    // Unacknowledged on the wall: the silence goes.
    post(&server, IRENE, "/api/v1/alerts/am-1/unack", &json!({})).await;
    silences_gone(&am.base).await;

    // Acked again (no note, no expiry: 24 h, the default comment), then
    // resolved on the wall: that silence goes too.
    post(&server, IRENE, "/api/v1/alerts/am-1/ack", &json!({})).await;
    writeback_becomes(&server, "am-1", WritebackState::Done).await;
    let start = Instant::now();
    let live = loop {
        let live = silences(&am.base).await;
        if !live.is_empty() {
            break live;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no second silence"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(live[0]["comment"], "Acknowledged in NOC");
    let ends = chrono::DateTime::parse_from_rfc3339(live[0]["endsAt"].as_str().expect("endsAt"))
        .expect("time");
    let lasts = ends.timestamp() - chrono::Utc::now().timestamp();
    assert!(
        (86_300..=86_400).contains(&lasts),
        "an ack without expiry silences for 24 h: {lasts}s"
    );
    post(&server, IRENE, "/api/v1/alerts/am-1/resolve", &json!({})).await;
    silences_gone(&am.base).await;
    writeback_becomes(&server, "am-1", WritebackState::Done).await;
    let sources = server.get_json("/api/v1/sources").await;
    assert_eq!(
        sources[0]["writeback"],
        json!({"pending": 0, "failed": 0, "last_error": null})
    );
    let sent = common::metric(&server.http, &server.url(""), "noc_writeback_sent_total").await;
    assert_eq!(sent.as_deref(), Some("4"));
    server.stop().await;
}

#[tokio::test]
async fn alertmanager_down_during_the_ack_pending_across_a_restart_then_done() {
    let Some(binary) = binary() else { return };
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = files(&dir, &base);
    let server = start(&flags).await;
    raise(&server, "am-2").await;
    post(&server, IRENE, "/api/v1/alerts/am-2/ack", &json!({})).await;

    // The first attempt fails: pending, with the reason, and counted.
    let start = Instant::now();
    let sources = loop {
        let sources = server.get_json("/api/v1/sources").await;
        if !sources[0]["writeback"]["last_error"].is_null() {
            break sources;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{sources}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(sources[0]["writeback"]["pending"], 1);
    let error = sources[0]["writeback"]["last_error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("cannot connect"), "{error}");
    let alert = server.stored("am-2").await;
    assert_eq!(
        alert.writeback.map(|w| w.state),
        Some(WritebackState::Pending)
    );

    // The server restarts; Alertmanager comes back.
    let (shared, database, addr) = (server.dir.clone(), server.database.clone(), server.addr);
    server.stop().await;
    let flags_ref: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = TestServer::start_on(shared, database, &addr.to_string(), &flags_ref).await;
    let am = Alertmanager::start_on(&binary, "http://127.0.0.1:9/", port).await;
    writeback_becomes(&server, "am-2", WritebackState::Done).await;
    assert_eq!(silences(&am.base).await.len(), 1, "sent once");
    server.stop().await;
}
