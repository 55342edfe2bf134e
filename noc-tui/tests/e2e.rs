//! End to end: the client's network task and `App` against the real
//! `noc-server`, in-process on an ephemeral port.

mod common;

use std::collections::HashSet;
use std::io::Write;

use common::{Client, Server, alert};
use noc_shared::{ServerMessage, Severity, SnapshotReason};
use noc_tui::app::Link;
use noc_tui::net::NetEvent;
use serde_json::{Value, json};

fn is_snapshot(event: &NetEvent) -> bool {
    matches!(event, NetEvent::Message(ServerMessage::Snapshot(_)))
}

#[tokio::test]
async fn sites_groups_and_min_severity_filter_what_the_screen_gets() {
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("tempdir"));
    let sites = dir.path().join("sites.toml");
    let mut file = std::fs::File::create(&sites).expect("sites file");
    writeln!(
        file,
        "[groups]\nTanzania = [\"Kilimanjaro\", \"Serengeti\"]\nUganda = [\"Kampala\"]"
    )
    .expect("write sites file");
    let sites = sites.display().to_string();
    let server = Server::start_on(dir, "127.0.0.1:0", &["--sites-file", &sites]).await;
    server.post(&alert("before", "Kilimanjaro", "high")).await;
    server
        .post(&alert("before-ug", "Kampala", "critical"))
        .await;

    let base = server.base();
    let mut client = Client::start(&[
        "--url",
        &base,
        "--sites",
        "Tanzania",
        "--min-severity",
        "warning",
        "--name",
        "e2e-filter",
    ]);
    client
        .until("the first snapshot", |_, e| is_snapshot(e))
        .await;
    assert_eq!(client.ids(), ["before"]);
    let expanded: HashSet<String> = client
        .app
        .filter
        .sites()
        .expect("a site list")
        .iter()
        .cloned()
        .collect();
    assert_eq!(
        expanded,
        HashSet::from(["Kilimanjaro".to_owned(), "Serengeti".to_owned()])
    );
    assert_eq!(client.app.filter.min_severity(), Severity::Warning);

    server
        .post(&json!([
            alert("ug", "Kampala", "critical"),
            alert("low", "Serengeti", "info"),
            alert("sere", "serengeti", "average"),
            alert("marker", "Kilimanjaro", "warning"),
        ]))
        .await;
    // Events come in seq order: once the marker is here, anything else that
    // was going to come has come.
    client
        .until("the marker alert", |app, _| {
            app.alerts.get("marker").is_some()
        })
        .await;
    assert_eq!(client.ids(), ["before", "sere", "marker"]);
    client.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn heartbeats_are_answered_and_the_server_measures_the_round_trip() {
    let server = Server::start(&["--heartbeat-interval", "200ms"]).await;
    let base = server.base();
    let mut client = Client::start(&["--url", &base, "--name", "e2e-heartbeat"]);
    client.until("the snapshot", |_, e| is_snapshot(e)).await;
    assert_eq!(client.app.heartbeat_ms, Some(200));

    // Poll the screens list once per heartbeat, never on a timer.
    let mut screen = Value::Null;
    for _ in 0..20 {
        client
            .until("a heartbeat", |_, e| {
                matches!(e, NetEvent::Message(ServerMessage::Heartbeat { .. }))
            })
            .await;
        let screens = server.screens().await;
        screen = screens
            .into_iter()
            .find(|s| s["name"] == "e2e-heartbeat")
            .expect("our screen is listed by name");
        if screen["rtt_ms"].is_u64() {
            break;
        }
    }
    assert!(screen["rtt_ms"].is_u64(), "rtt measured: {screen}");
    assert_eq!(screen["sites"], Value::Null, "all sites");

    // Ten more intervals (over three times the server's patience for a
    // silent screen) and the link is still the same one.
    let mut beats = 0;
    while beats < 10 {
        match client.next().await {
            NetEvent::Message(ServerMessage::Heartbeat { .. }) => beats += 1,
            NetEvent::Disconnected { reason, .. } => panic!("link dropped: {reason}"),
            _ => {}
        }
    }
    assert!(matches!(client.app.link, Link::Connected { .. }));
    client.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn the_client_comes_back_by_itself_after_a_server_restart_on_the_same_port() {
    let server = Server::start(&["--heartbeat-interval", "200ms"]).await;
    server.post(&alert("old", "Kilimanjaro", "critical")).await;
    let base = server.base();
    let mut client = Client::start(&["--url", &base]);
    client.until("the snapshot", |_, e| is_snapshot(e)).await;
    assert_eq!(client.ids(), ["old"]);

    let addr = server.addr.to_string();
    let dir = server.dir.clone();
    server.stop().await;
    client
        .until("the client to notice", |_, e| {
            matches!(e, NetEvent::Disconnected { .. })
        })
        .await;
    assert!(client.app.stale, "the last alerts stay, marked stale");
    assert_eq!(client.ids(), ["old"]);

    // The same port and database, and a changed world.
    let server = Server::start_on(dir, &addr, &["--heartbeat-interval", "200ms"]).await;
    server
        .post(&json!({"id": "old", "event": "alert.resolved"}))
        .await;
    server.post(&alert("new", "Serengeti", "high")).await;
    client
        .until("the client to be back with the new state", |app, _| {
            !app.stale && app.alerts.get("new").is_some()
        })
        .await;
    assert_eq!(client.ids(), ["new"]);
    assert!(matches!(client.app.link, Link::Connected { .. }));
    client.stop().await;
    server.stop().await;
}

/// A client of `base` that has its answer to its own subscribe message
/// (after the connect snapshot), so that nothing posted later is in a
/// snapshot.
async fn subscribed_client(base: &str) -> Client {
    let mut client = Client::start(&["--url", base]);
    client
        .until("the subscribe snapshot", |_, e| {
            matches!(e, NetEvent::Message(ServerMessage::Snapshot(s)) if s.reason == SnapshotReason::Subscribe)
        })
        .await;
    client
}

/// `count` new warnings at Kampala, as one array body.
fn burst(count: usize) -> Value {
    Value::Array(
        (0..count)
            .map(|i| alert(&format!("b{i:04}"), "Kampala", "warning"))
            .collect(),
    )
}

#[tokio::test]
async fn a_burst_within_the_servers_queue_arrives_whole() {
    let server = Server::start(&[]).await;
    let base = server.base();
    let mut client = subscribed_client(&base).await;
    let burst = burst(1000);
    let answer = server.post(&burst).await;
    assert_eq!(answer.as_array().map(Vec::len), Some(1000));
    let mut created = 0;
    while created < 1000 {
        match client.next().await {
            NetEvent::Message(ServerMessage::AlertCreated(_)) => created += 1,
            NetEvent::Message(ServerMessage::Heartbeat { .. }) => {}
            other => panic!("expected only alert.created events, got {other:?}"),
        }
    }
    assert_eq!(client.app.alerts.len(), 1000);
    assert!(!client.app.truncated);
    client.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn a_burst_beyond_the_queue_resyncs_from_a_truncated_snapshot() {
    let server = Server::start(&[]).await;
    let base = server.base();
    let mut client = subscribed_client(&base).await;
    let burst = burst(2500);
    server.post(&burst).await;
    client
        .until("a lagged snapshot", |_, e| {
            matches!(e, NetEvent::Message(ServerMessage::Snapshot(s)) if s.reason == SnapshotReason::Lagged)
        })
        .await;
    // The snapshot caps at 1000 and says so; the screen shows that it does.
    assert_eq!(client.app.alerts.len(), 1000);
    assert!(client.app.truncated);
    assert!(matches!(client.app.link, Link::Connected { .. }));
    client.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn several_urls_are_tried_in_turn() {
    let server = Server::start(&[]).await;
    // A port nothing listens on, first.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("ws://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let base = server.base();
    let mut client = Client::start(&["--url", &dead, "--url", &base]);
    client
        .until("a failure on the first URL", |_, e| {
            matches!(e, NetEvent::Disconnected { .. })
        })
        .await;
    client.until("the snapshot", |_, e| is_snapshot(e)).await;
    assert_eq!(
        client.app.link.url(),
        format!("ws://{}/ws/alerts", server.addr)
    );
    client.stop().await;
    server.stop().await;
}
