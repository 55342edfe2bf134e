//! Signs of life: `POST /internal/heartbeat`, a source silent longer than
//! its heartbeat raising the server's own alert on a live screen and
//! resolving it when heard, across a restart, and `GET /api/v1/sources`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Screen, TestServer, fresh_database, within};
use noc_shared::{EventKind, Severity, Status};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

const SOURCES: &str = r#"
[[source]]
name = "zabbix-dc1"
kind = "zabbix"
token = "dc1-token"
heartbeat = "2s"
site = "Kilimanjaro"

[[source]]
name = "prom"
kind = "alertmanager"
token = "prom-token"
"#;

const HEARTBEAT: Duration = Duration::from_secs(2);

/// A server on `database` in `dir`, with the sources file there.
async fn start(dir: &Arc<TempDir>, database: &str, listen: &str) -> TestServer {
    let path = dir.path().join("sources.toml");
    std::fs::write(&path, SOURCES).expect("write sources.toml");
    let path = path.to_str().expect("utf-8").to_owned();
    TestServer::start_on(
        dir.clone(),
        database.to_owned(),
        listen,
        &["--sources-file", &path],
    )
    .await
}

async fn fresh() -> TestServer {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let database = fresh_database(&dir).await;
    start(&dir, &database, "127.0.0.1:0").await
}

async fn heartbeat(server: &TestServer, token: &str) -> StatusCode {
    server
        .http
        .post(server.url("/internal/heartbeat"))
        .bearer_auth(token)
        .send()
        .await
        .expect("POST /internal/heartbeat")
        .status()
}

/// The next event about `source-silent-zabbix-dc1` on `screen`.
async fn silent_event(screen: &mut Screen) -> (EventKind, noc_shared::Alert) {
    within("the silent-source alert", async {
        loop {
            let (kind, alert) = screen.next_alert().await;
            if alert.id == "source-silent-zabbix-dc1" {
                return (kind, alert);
            }
        }
    })
    .await
}

#[tokio::test]
async fn heartbeats_and_the_list_of_sources() {
    let server = fresh().await;
    assert_eq!(heartbeat(&server, "nope").await, 401);
    let before = chrono::Utc::now();
    assert_eq!(heartbeat(&server, "dc1-token").await, 204);

    let list = server.get_json("/api/v1/sources").await;
    let text = list.to_string();
    assert!(!text.contains("token"), "tokens never appear: {text}");
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 2);
    let dc1 = &list[0];
    assert_eq!(dc1["name"], "zabbix-dc1");
    assert_eq!(dc1["kind"], "zabbix");
    assert_eq!(dc1["heartbeat"], "2s");
    assert_eq!(dc1["state"], "ok");
    let seen: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(dc1["last_seen_at"].clone()).expect("a time");
    assert!(
        seen >= before - chrono::Duration::milliseconds(1),
        "{seen} {before}"
    );
    assert_eq!(
        dc1["writeback"],
        serde_json::json!({ "pending": 0, "failed": 0, "last_error": null })
    );
    let prom = &list[1];
    assert_eq!(
        (&prom["state"], &prom["last_seen_at"]),
        (&Value::from("never"), &Value::Null)
    );
    assert_eq!(prom["heartbeat"], Value::Null);

    // An accepted write is a sign of life too, and its alert is counted.
    let response = server
        .http
        .post(server.url("/internal/alerts"))
        .bearer_auth("prom-token")
        .json(&common::alert("p-1", "Serengeti", "warning"))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200);
    let list = server.get_json("/api/v1/sources").await;
    assert_eq!(list[1]["state"], "ok");
    assert_eq!(list[1]["active_alerts"], 1);
    assert_eq!(list[0]["active_alerts"], 0);

    let base = server.url("");
    let writes = common::metric(
        &server.http,
        &base,
        "noc_source_writes_total{source=\"prom\"}",
    )
    .await;
    assert_eq!(writes.as_deref(), Some("1"));
    let last_seen = common::metric(
        &server.http,
        &base,
        "noc_source_last_seen_seconds{source=\"zabbix-dc1\"}",
    )
    .await;
    let last_seen: i64 = last_seen
        .expect("a last-seen metric")
        .parse()
        .expect("a number");
    assert!((last_seen - before.timestamp()).abs() <= 1, "{last_seen}");
}

#[tokio::test]
async fn a_silent_source_raises_an_alert_resolved_when_heard() {
    let server = fresh().await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    assert_eq!(heartbeat(&server, "dc1-token").await, 204);
    let heard = Instant::now();

    let (kind, alert) = silent_event(&mut screen).await;
    let after = heard.elapsed();
    assert_eq!(kind, EventKind::Created);
    assert!(
        after >= HEARTBEAT && after <= HEARTBEAT + Duration::from_secs(1),
        "raised {after:?} after the last sign of life (heartbeat 2s)"
    );
    assert_eq!(alert.source, "noc-server");
    assert_eq!(alert.site, "Kilimanjaro");
    assert_eq!(alert.severity, Severity::Critical);
    assert_eq!(
        alert.message,
        "No word from zabbix-dc1 for 2s (heartbeat every 2s)"
    );
    let list = server.get_json("/api/v1/sources").await;
    assert_eq!(list[0]["state"], "silent");

    let heard = Instant::now();
    assert_eq!(heartbeat(&server, "dc1-token").await, 204);
    let (kind, alert) = silent_event(&mut screen).await;
    assert_eq!(kind, EventKind::Resolved);
    assert_eq!(alert.status, Status::Resolved);
    assert!(
        heard.elapsed() < Duration::from_secs(1),
        "{:?}",
        heard.elapsed()
    );
}

#[tokio::test]
async fn a_restart_remembers_the_silent_source_and_its_last_word() {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let database = fresh_database(&dir).await;
    let server = start(&dir, &database, "127.0.0.1:0").await;
    assert_eq!(heartbeat(&server, "dc1-token").await, 204);
    let seen = server.get_json("/api/v1/sources").await[0]["last_seen_at"].clone();
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    assert_eq!(silent_event(&mut screen).await.0, EventKind::Created);
    let addr = server.addr.to_string();
    drop(screen);
    server.stop().await;

    let server = start(&dir, &database, &addr).await;
    let list = server.get_json("/api/v1/sources").await;
    assert_eq!(list[0]["last_seen_at"], seen, "the last word survives");
    assert_eq!(list[0]["state"], "silent");
    let mut screen = Screen::connect(&server.ws_url("")).await;
    let snapshot = screen.snapshot().await;
    assert!(
        snapshot
            .alerts
            .iter()
            .any(|a| a.id == "source-silent-zabbix-dc1" && a.status == Status::Active),
        "the silent alert is still up"
    );
    // Beyond a heartbeat after the restart, still nothing changes for it:
    // the next event about anything is a marker.
    tokio::time::sleep(HEARTBEAT + Duration::from_millis(500)).await;
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;

    assert_eq!(heartbeat(&server, "dc1-token").await, 204);
    assert_eq!(silent_event(&mut screen).await.0, EventKind::Resolved);
    drop(screen);
    server.stop_and_drop_database().await;
}
