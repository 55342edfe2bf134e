//! Flapping, wired: an alert that bounces four times within the window
//! starts flapping with one `alert.updated` (reason `flapping`), and stops
//! with one more after a window in one state, fired by the clock. The
//! window is shortened with `--flap-window`. Runs on SQLite, or on
//! PostgreSQL with `NOC_TEST_STORE=postgres`; the two-instance test needs
//! `NOC_TEST_DATABASE_URL`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Screen, TestServer, alert, fresh_postgres_database, postgres_url};
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

/// Bounces `id` until its fourth resolve, which must start the flapping
/// with one `alert.updated` (reason flapping) right after.
async fn bounce_until_flapping(server: &TestServer, screen: &mut Screen, id: &str) {
    reopen(server, screen, id).await;
    for bounce in 1..=4 {
        assert!(!resolve(server, screen, id).await, "not yet flapping");
        if bounce < 4 {
            reopen(server, screen, id).await;
        }
    }
    let (kind, event) = screen.next_event().await;
    assert_eq!(kind, EventKind::Updated);
    assert_eq!(event.reason, Some(EventReason::Flapping));
    assert!(event.alert.flapping);
}

/// Expects the end of `id`'s flapping next on `screen`.
async fn expect_quiet(screen: &mut Screen, id: &str) {
    let (kind, event) = screen.next_event().await;
    assert_eq!((kind, event.alert.id.as_str()), (EventKind::Updated, id));
    assert_eq!(event.reason, Some(EventReason::Flapping));
    assert!(!event.alert.flapping);
}

#[tokio::test]
async fn four_bounces_start_it_once_and_a_quiet_window_ends_it_once() {
    let server = TestServer::start(&["--flap-window", WINDOW]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    let id = "link-kisumu";
    bounce_until_flapping(&server, &mut screen, id).await;
    assert!(server.stored(id).await.flapping, "stored flapping");

    // A fifth bounce shows it flapping and does not say so again.
    reopen(&server, &mut screen, id).await;
    assert!(resolve(&server, &mut screen, id).await, "flapping shown");
    let marker = server.post_marker("Kisumu").await;
    screen.expect_marker(&marker).await;

    // A window in one state (resolved): the clock ends it, once.
    expect_quiet(&mut screen, id).await;
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

/// Two instances on one PostgreSQL database: both clocks know the time
/// (the other's events ring it), and the end is emitted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_end_is_emitted_once_with_two_instances_firing() {
    let Some(base) = postgres_url() else {
        println!("skipped: NOC_TEST_DATABASE_URL is not set");
        return;
    };
    let database = fresh_postgres_database(&base).await;
    let mut pair = Vec::new();
    for _ in 0..2 {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        let flags = ["--flap-window", WINDOW];
        pair.push(TestServer::start_on(dir, database.clone(), "127.0.0.1:0", &flags).await);
    }
    let mut on_a = Screen::connect(&pair[0].ws_url("")).await;
    let mut on_b = Screen::connect(&pair[1].ws_url("")).await;
    on_a.snapshot().await;
    on_b.snapshot().await;
    let id = "link-eldoret";
    bounce_until_flapping(&pair[0], &mut on_a, id).await;
    // The other instance's screen saw the same nine events.
    for _ in 0..8 {
        on_b.next_event().await;
    }
    let (_, event) = on_b.next_event().await;
    assert_eq!(event.reason, Some(EventReason::Flapping));
    for screen in [&mut on_a, &mut on_b] {
        expect_quiet(screen, id).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let marker = pair[1].post_marker("Eldoret").await;
    on_a.expect_marker(&marker).await;
    on_b.expect_marker(&marker).await;
    let b = pair.pop().expect("b");
    b.stop().await;
    pair.pop().expect("a").stop_and_drop_database().await;
}
