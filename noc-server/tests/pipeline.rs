//! The heart of the product, end to end: webhook → store → hub → screens.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Screen, TestServer, alert, within};
use noc_shared::{EventKind, ServerMessage, Severity, SnapshotReason};
use serde_json::json;

/// The (kind, id, seq) of the next alert event, skipping heartbeats.
async fn next_event(screen: &mut Screen) -> (EventKind, String, u64) {
    let (kind, e) = screen.next_event().await;
    (kind, e.alert.id, e.seq)
}

#[tokio::test]
async fn screens_get_exactly_their_events_in_seq_order() {
    let sites = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(
        sites.path(),
        "[groups]\nTanzania = [\"Kilimanjaro\", \"Serengeti\"]\n",
    )
    .expect("write");
    let server = TestServer::start(&["--sites-file", sites.path().to_str().expect("utf-8")]).await;

    let mut all = Screen::connect(&server.ws_url("client=all")).await;
    let mut kili = Screen::connect(&server.ws_url("sites=kilimanjaro")).await;
    let mut tanzania = Screen::connect(&server.ws_url("sites=Tanzania&client=tz")).await;
    let mut high = Screen::connect(&server.ws_url("min_severity=high")).await;
    let snap = tanzania.snapshot().await;
    assert_eq!(
        snap.sites,
        Some(vec!["Kilimanjaro".to_owned(), "Serengeti".to_owned()])
    );
    assert_eq!(snap.reason, SnapshotReason::Connect);
    for s in [&mut all, &mut kili, &mut high] {
        s.snapshot().await;
    }

    server.post_ok(&alert("k1", "Kilimanjaro", "warning")).await;
    server.post_ok(&alert("s1", "Serengeti", "disaster")).await;
    server.post_ok(&alert("u1", "Kampala", "info")).await;
    server
        .post_ok(&json!({"id": "k1", "event": "alert.resolved"}))
        .await;

    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(next_event(&mut all).await);
    }
    let seqs: Vec<u64> = got.iter().map(|e| e.2).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive seqs: {seqs:?}"
    );
    assert_eq!(
        got.last().map(|e| (e.0, e.1.as_str())),
        Some((EventKind::Resolved, "k1"))
    );

    assert_eq!(next_event(&mut kili).await.1, "k1");
    assert_eq!(next_event(&mut kili).await.0, EventKind::Resolved);
    assert_eq!(next_event(&mut tanzania).await.1, "k1");
    assert_eq!(next_event(&mut tanzania).await.1, "s1");
    assert_eq!(next_event(&mut tanzania).await.0, EventKind::Resolved);
    assert_eq!(next_event(&mut high).await.1, "s1");
    // No extra events: each screen's next is a marker they all take.
    let marker = server.post_marker("Kilimanjaro").await;
    for s in [&mut all, &mut kili, &mut tanzania, &mut high] {
        s.expect_marker(&marker).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_later_screen_sees_the_current_picture_and_restart_keeps_it() {
    let server = TestServer::start(&[]).await;
    server
        .post_ok(&json!([
            alert("a", "A", "info"),
            alert("b", "A", "critical"),
            alert("c", "B", "high")
        ]))
        .await;
    server
        .post_ok(&json!({"id": "c", "event": "alert.resolved"}))
        .await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    let snap = screen.snapshot().await;
    let ids: Vec<&str> = snap.alerts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, vec!["b", "a"], "active only, most severe first");
    assert_eq!(snap.seq, 4);
    assert_eq!(snap.heartbeat_ms, 30_000);
    drop(screen);

    let (dir, database, addr) = (
        server.dir.clone(),
        server.database.clone(),
        server.addr.to_string(),
    );
    server.stop().await;
    let server = TestServer::start_on(dir, database, &addr, &[]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    let again = screen.snapshot().await;
    assert_eq!(again.alerts, snap.alerts, "the same alerts after a restart");
    assert_eq!(again.seq, 4, "seq is kept in the store");
    server.post_ok(&alert("d", "A", "info")).await;
    assert_eq!(
        next_event(&mut screen).await.2,
        5,
        "seq goes on from the store"
    );
    server.stop().await;
}

#[tokio::test]
async fn subscribe_replaces_the_filter_and_alerts_that_move_away_leave() {
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("sites=A")).await;
    screen.snapshot().await;
    server.post_ok(&alert("x", "A", "high")).await;
    assert_eq!(next_event(&mut screen).await.1, "x");
    // The alert moves to site B: screens of A must hear of it.
    server.post_ok(&alert("x", "B", "high")).await;
    assert_eq!(next_event(&mut screen).await.0, EventKind::Updated);

    screen
        .send_text(r#"{"subscribe":["b"],"min_severity":"critical"}"#)
        .await;
    let snap = screen.snapshot().await;
    assert_eq!(snap.reason, SnapshotReason::Subscribe);
    assert_eq!(snap.min_severity, Severity::Critical);
    assert!(snap.alerts.is_empty(), "x is high, below critical");
    server.post_ok(&alert("y", "B", "critical")).await;
    assert_eq!(next_event(&mut screen).await.1, "y");

    screen.send_text("not json").await;
    assert!(matches!(screen.next().await, ServerMessage::Error { .. }));
    screen.send_text(r#"{"subscribe":[]}"#).await;
    let snap = screen.snapshot().await;
    assert_eq!(snap.sites, None, "an empty list takes all sites");
    assert_eq!(
        snap.min_severity,
        Severity::Critical,
        "min_severity kept when not given"
    );
    server.stop().await;
}

#[tokio::test]
async fn heartbeats_pongs_and_silent_screens() {
    let server = TestServer::start(&["--heartbeat-interval", "200ms"]).await;
    let mut alive = Screen::connect(&server.ws_url("client=alive")).await;
    let mut silent = Screen::connect(&server.ws_url("client=silent")).await;
    assert_eq!(alive.snapshot().await.heartbeat_ms, 200);
    silent.snapshot().await;
    // `alive` answers every heartbeat; `silent` never sends a frame (its
    // client library still answers Pings only while it is read, so it is
    // not read at all).
    let answer = async {
        loop {
            if let ServerMessage::Heartbeat { ts } = alive.next_any().await {
                alive
                    .send_text(&format!(r#"{{"event":"pong","ts":{ts}}}"#))
                    .await;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1200), answer).await;
    let screens = server.get_json("/api/v1/screens").await;
    let names: HashSet<&str> = screens
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        HashSet::from(["alive"]),
        "the silent screen was dropped: {screens}"
    );
    let me = &screens[0];
    assert!(me["rtt_ms"].is_u64(), "rtt measured: {me}");
    assert!(
        me["last_seen_at"].is_string() && me["connected_at"].is_string() && me["addr"].is_string()
    );
    // The silent one was closed by the server: its stream ends (with the
    // close frame, or a broken pipe when the client library first tries to
    // answer the Pings it had not read).
    within("the silent screen's stream to end", async {
        use futures_util::StreamExt;
        while let Some(Ok(frame)) = silent.ws.next().await {
            if let tokio_tungstenite::tungstenite::Message::Close(frame) = frame {
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(1000));
                break;
            }
        }
    })
    .await;
    server.stop().await;
}
