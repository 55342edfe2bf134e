//! Flapping, wired: an alert that bounces four times within the window
//! starts flapping with one `alert.updated` (reason `flapping`), and stops
//! with one more after a window in one state, fired by the clock. The
//! window is shortened with `--flap-window`. Runs on SQLite, or on
//! PostgreSQL with `NOC_TEST_STORE=postgres`.

mod common;

use std::time::Duration;

use common::{Screen, TestServer, alert};
use noc_shared::{EventKind, EventReason};
use serde_json::json;

const WINDOW: &str = "2s";

/// Resolves `id`, then posts it active again: its resolved and created
/// events reach `screen`.
async fn resolve(server: &TestServer, screen: &mut Screen, id: &str) -> bool {
    server
        .post_ok(&json!({"id": id, "event": "alert.resolved"}))
        .await;
    let (kind, event) = screen.next_event().await;
    assert_eq!((kind, event.alert.id.as_str()), (EventKind::Resolved, id));
    assert_eq!(event.reason, None);
    event.alert.flapping
}

async fn reopen(server: &TestServer, screen: &mut Screen, id: &str) {
    server.post_ok(&alert(id, "Kisumu", "high")).await;
    let (kind, _) = screen.next_event().await;
    assert_eq!(kind, EventKind::Created);
}

#[tokio::test]
async fn four_bounces_start_it_once_and_a_quiet_window_ends_it_once() {
    let server = TestServer::start(&["--flap-window", WINDOW]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    let id = "link-kisumu";
    reopen(&server, &mut screen, id).await;

    for bounce in 1..=4 {
        assert!(!resolve(&server, &mut screen, id).await, "not yet flapping");
        if bounce < 4 {
            reopen(&server, &mut screen, id).await;
        }
    }
    // The fourth resolve: one alert.updated, reason flapping, right after.
    let (kind, event) = screen.next_event().await;
    assert_eq!(kind, EventKind::Updated);
    assert_eq!(event.reason, Some(EventReason::Flapping));
    assert!(event.alert.flapping);
    assert!(server.stored(id).await.flapping, "stored flapping");

    // A fifth bounce shows it flapping and does not say so again.
    reopen(&server, &mut screen, id).await;
    assert!(resolve(&server, &mut screen, id).await, "flapping shown");
    let marker = server.post_marker("Kisumu").await;
    screen.expect_marker(&marker).await;

    // A window in one state (resolved): the clock ends it, once.
    let (kind, event) = screen.next_event().await;
    assert_eq!((kind, event.alert.id.as_str()), (EventKind::Updated, id));
    assert_eq!(event.reason, Some(EventReason::Flapping));
    assert!(!event.alert.flapping);
    assert!(!server.stored(id).await.flapping, "stored not flapping");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let marker = server.post_marker("Kisumu").await;
    screen.expect_marker(&marker).await;

    let history = server
        .get_json(&format!("/api/v1/alerts/{id}/history"))
        .await;
    let flaps: Vec<_> = history
        .as_array()
        .expect("a list")
        .iter()
        .filter(|entry| entry["reason"] == "flapping")
        .map(|entry| (entry["by"].clone(), entry["changes"]["flapping"].clone()))
        .collect();
    assert_eq!(
        flaps,
        vec![
            (json!("noc-server"), json!([false, true])),
            (json!("noc-server"), json!([true, false])),
        ]
    );
    server.stop().await;
}
