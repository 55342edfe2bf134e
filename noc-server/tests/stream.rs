//! The live stream under pressure: the snapshot/live boundary while alerts
//! are posted concurrently, a screen that stops reading, limits and
//! shutdown.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{INGEST, Screen, TestServer, alert, within};
use futures_util::{SinkExt, StreamExt};
use noc_shared::{EventKind, ServerMessage, SnapshotReason};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

/// Reads a screen until it has seen `marker` created; returns the ids it
/// holds (snapshot plus events) and checks the seq rules on the way.
async fn follow_until(screen: &mut Screen, marker: &str) -> BTreeSet<String> {
    let snap = screen.snapshot().await;
    let mut last = snap.seq;
    let mut ids: BTreeSet<String> = snap.alerts.iter().map(|a| a.id.clone()).collect();
    loop {
        let msg = screen.next().await;
        let (kind, event) = msg
            .as_alert_event()
            .unwrap_or_else(|| panic!("unexpected {msg:?}"));
        assert!(
            event.seq > last,
            "seq {} after {last}: repeated or out of order",
            event.seq
        );
        assert_eq!(event.seq, last + 1, "no gap in an all-sites stream");
        last = event.seq;
        assert_eq!(kind, EventKind::Created);
        assert!(
            ids.insert(event.alert.id.clone()),
            "{} seen twice",
            event.alert.id
        );
        if event.alert.id == marker {
            return ids;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_snapshot_live_boundary_loses_and_repeats_nothing() {
    let server = Arc::new(TestServer::start(&[]).await);
    let posters: Vec<_> = (0..4)
        .map(|p| {
            let server = server.clone();
            tokio::spawn(async move {
                for i in 0..60 {
                    server
                        .post_ok(&alert(&format!("p{p}-{i}"), "A", "info"))
                        .await;
                }
            })
        })
        .collect();
    // Screens connect while the posters run, each at a different moment.
    let mut screens = Vec::new();
    for _ in 0..8 {
        screens.push(Screen::connect(&server.ws_url("")).await);
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    for p in posters {
        within("the posters", p).await.expect("poster");
    }
    server.post_ok(&alert("marker", "A", "info")).await;
    let all: BTreeSet<String> = (0..4)
        .flat_map(|p| (0..60).map(move |i| format!("p{p}-{i}")))
        .chain(["marker".into()])
        .collect();
    for mut screen in screens {
        assert_eq!(follow_until(&mut screen, "marker").await, all);
    }
}

/// A client whose socket takes little before the server's writes block.
async fn slow_screen(server: &TestServer, query: &str) -> Screen {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let stream = socket.connect(server.addr).await.expect("connect");
    let (ws, _) = tokio_tungstenite::client_async(
        server.ws_url(query),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .expect("handshake");
    Screen { ws }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_that_stops_reading_gets_a_lagged_snapshot_and_others_keep_up() {
    let server = TestServer::start(&[]).await;
    let mut stuck = slow_screen(&server, "").await;
    stuck.snapshot().await;
    let mut healthy = Screen::connect(&server.ws_url("")).await;
    healthy.snapshot().await;
    // The healthy screen reads in the background while the flood goes on.
    let reader = tokio::spawn(async move {
        let mut seen = HashSet::new();
        while seen.len() < 3000 {
            let msg = healthy.next().await;
            let (_, e) = msg
                .as_alert_event()
                .unwrap_or_else(|| panic!("healthy screen got {msg:?}"));
            assert!(seen.insert(e.seq), "repeated {}", e.seq);
        }
        seen.len()
    });
    for batch in 0..6 {
        let body: Vec<_> = (0..500)
            .map(|i| alert(&format!("f{batch}-{i}"), "A", "info"))
            .collect();
        server.post_ok(&json!(body)).await;
    }
    assert_eq!(
        within("the healthy screen", reader).await.expect("reader"),
        3000,
        "every event, once"
    );

    // Now the stuck screen reads again: events, then a lagged snapshot that
    // holds everything, then nothing more.
    let snap = within("a lagged snapshot", async {
        loop {
            if let ServerMessage::Snapshot(s) = stuck.next().await {
                return s;
            }
        }
    })
    .await;
    assert_eq!(snap.reason, SnapshotReason::Lagged);
    assert_eq!(snap.alerts.len(), 1000, "capped at 1000");
    assert!(snap.truncated);
    assert_eq!(snap.seq, 3000);
    let marker = server.post_marker("A").await;
    assert_eq!(
        stuck.expect_marker(&marker).await.seq,
        snap.seq + 1,
        "no event at or below the snapshot's seq follows"
    );
    let screens = server.get_json("/api/v1/screens").await;
    let lagged: Vec<u64> = screens
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["lagged"].as_u64())
        .collect();
    assert!(
        lagged.contains(&1),
        "the stuck screen is counted as lagged once: {screens}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_snapshot_of_1000_long_alerts_reaches_the_screen() {
    let server = TestServer::start(&[]).await;
    // 1000 alerts of 4000 characters: a snapshot of about 4 MB.
    for batch in 0..10 {
        let body: Vec<_> = (0..100)
            .map(|i| json!({"id": format!("l{batch}-{i}"), "site": "A", "severity": "high", "message": "m".repeat(4000)}))
            .collect();
        server.post_ok(&json!(body)).await;
    }
    let mut screen = Screen::connect(&server.ws_url("")).await;
    let snap = screen.snapshot().await;
    assert_eq!(snap.alerts.len(), 1000);
    server.post_ok(&alert("after", "A", "info")).await;
    let msg = screen.next().await;
    assert_eq!(
        msg.as_alert_event().map(|(_, e)| e.alert.id.as_str()),
        Some("after")
    );
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009() {
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    let huge = format!(r#"{{"subscribe":["{}"]}}"#, "x".repeat(70 * 1024));
    screen.ws.send(Message::text(huge)).await.ok();
    let code = within("the close", async {
        while let Some(frame) = screen.ws.next().await {
            if let Ok(Message::Close(frame)) = frame {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await;
    assert_eq!(code, Some(1009));
    server.stop().await;
}

/// Control frames share the stream with the events the hub writes to the
/// socket itself: a Ping is answered with its Pong, a Close with a Close,
/// and nothing follows the Close.
#[tokio::test]
async fn a_screens_ping_and_close_are_answered_in_line_with_events() {
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    screen
        .ws
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("ping");
    let pong = within("the pong", async {
        loop {
            match screen.ws.next().await {
                Some(Ok(Message::Pong(data))) => return data,
                Some(Ok(_)) => continue,
                other => panic!("the stream ended: {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(&pong[..], b"are you there");
    server.post_ok(&alert("after-ping", "A", "high")).await;
    match screen.next().await {
        ServerMessage::AlertCreated(event) => assert_eq!(event.alert.id, "after-ping"),
        other => panic!("expected the alert, got {other:?}"),
    }
    screen.ws.send(Message::Close(None)).await.expect("close");
    let after_close = within("the close answer", async {
        let mut frames = Vec::new();
        while let Some(Ok(frame)) = screen.ws.next().await {
            frames.push(frame);
        }
        frames
    })
    .await;
    assert!(
        matches!(after_close.as_slice(), [Message::Close(_)]),
        "expected only the answering Close, got {after_close:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_every_screen_with_1001() {
    let server = TestServer::start(&[]).await;
    let mut screens = vec![
        Screen::connect(&server.ws_url("")).await,
        Screen::connect(&server.ws_url("sites=A")).await,
    ];
    for s in &mut screens {
        s.snapshot().await;
    }
    server.shutdown.cancel();
    for s in &mut screens {
        let code = within("the close", async {
            while let Some(frame) = s.ws.next().await {
                if let Ok(Message::Close(frame)) = frame {
                    return frame.map(|f| u16::from(f.code));
                }
            }
            None
        })
        .await;
        assert_eq!(code, Some(1001));
    }
    server.stop().await;
}

#[tokio::test]
async fn the_binary_exits_0_on_sigterm_after_closing_screens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_noc-server"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--database"])
        .arg(format!("sqlite://{}", dir.path().join("noc.db").display()))
        .env("NOC_INGEST_TOKEN", INGEST)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn noc-server");
    let url = format!("ws://127.0.0.1:{port}/ws/alerts");
    let mut screen = within("the server to accept", async {
        loop {
            if let Ok((ws, _)) = tokio_tungstenite::connect_async(&url).await {
                return Screen { ws };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    screen.snapshot().await;
    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let close = within("the close", async {
        while let Some(frame) = screen.ws.next().await {
            if let Ok(Message::Close(frame)) = frame {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await;
    assert_eq!(close, Some(1001));
    let status = within("the exit", child.wait()).await.expect("wait");
    assert_eq!(status.code(), Some(0));
}

/// Reads `frames` until the stream ends, pausing 20 ms after each text
/// frame until `hurry` is set; returns the text frames read and the close
/// code, if a Close came.
async fn read_slowly(
    mut frames: impl futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
    + Unpin,
    hurry: Arc<AtomicBool>,
) -> (usize, Option<u16>) {
    let mut texts = 0;
    while let Some(Ok(frame)) = frames.next().await {
        match frame {
            Message::Text(_) => {
                texts += 1;
                if !hurry.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            Message::Close(frame) => return (texts, frame.map(|f| u16::from(f.code))),
            _ => {}
        }
    }
    (texts, None)
}

/// 100 alerts of about 4 KB each, ids `<prefix>-<n>`.
fn long_alerts(prefix: &str) -> serde_json::Value {
    let body: Vec<_> = (0..100)
        .map(|i| json!({"id": format!("{prefix}-{i}"), "site": "A", "severity": "info", "message": "m".repeat(4000)}))
        .collect();
    json!(body)
}

/// A screen that keeps answering but reads far slower than the server
/// writes: the write it is waiting for cannot finish within three heartbeat
/// intervals. It is closed with 1008, and the close frame is not stuck
/// behind the events still queued for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_too_slow_to_read_is_closed_with_1008() {
    let server = TestServer::start(&["--heartbeat-interval", "200ms"]).await;
    let mut screen = slow_screen(&server, "client=slow").await;
    screen.snapshot().await;
    let (mut sink, stream) = screen.ws.split();
    // Signs of life, so that it is not closed for silence instead.
    let alive = tokio::spawn(async move {
        while sink
            .send(Message::text(r#"{"event":"pong"}"#))
            .await
            .is_ok()
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let hurry = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(read_slowly(stream, hurry.clone()));
    // 1.6 MB of events, far more than the socket buffers hold, and far
    // more than the screen reads in three heartbeat intervals.
    for batch in 0..4 {
        server.post_ok(&long_alerts(&format!("s{batch}"))).await;
    }
    // Once the server has given up on it (the screen leaves the list), the
    // screen reads as fast as it can, to take what the server still sends.
    within("the slow screen to leave the list", async {
        while server.get_json("/api/v1/screens").await != json!([]) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    hurry.store(true, Ordering::Relaxed);
    let (read, code) = within("the slow screen's stream to end", reader)
        .await
        .expect("reader");
    assert_eq!(code, Some(1008), "closed with 1008 after {read} messages");
    assert!(read < 400, "the queued events were dropped: {read} read");
    alive.abort();
    server.stop().await;
}

/// Holds the store's write lock from a connection of its own until
/// dropped: the server's writer cannot commit meanwhile.
enum StoreLock {
    Sqlite(#[allow(dead_code)] sqlx::SqliteConnection),
    Postgres(#[allow(dead_code)] sqlx::PgConnection),
}

async fn lock_the_store(database: &str) -> StoreLock {
    use sqlx::Connection;
    if database.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(database)
            .await
            .expect("open the SQLite file");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .expect("take the write lock");
        StoreLock::Sqlite(conn)
    } else {
        let mut conn = sqlx::PgConnection::connect(database)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query("BEGIN")
            .execute(&mut conn)
            .await
            .expect("BEGIN");
        sqlx::query("SELECT value FROM counters WHERE name = 'seq' FOR UPDATE")
            .execute(&mut conn)
            .await
            .expect("lock the seq counter");
        StoreLock::Postgres(conn)
    }
}

/// The contract gives shutdown 5 s in all: a request that never finishes,
/// a screen that reads nothing and a writer that cannot commit each wait
/// within the same 5 s, not one after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_takes_at_most_5_s_in_all() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let server = TestServer::start(&[]).await;
    let database = server.database.clone();
    // A screen that reads nothing, its socket full: its task waits to write.
    let mut stuck = slow_screen(&server, "").await;
    stuck.snapshot().await;
    for batch in 0..3 {
        server.post_ok(&long_alerts(&format!("t{batch}"))).await;
    }
    // A write that waits for a writer that cannot commit.
    let lock = lock_the_store(&database).await;
    let write = {
        let request = server
            .http
            .post(server.url("/internal/alerts"))
            .bearer_auth(INGEST)
            .json(&alert("stuck", "A", "high"));
        tokio::spawn(request.send())
    };
    // A request whose body stops halfway. `Expect: 100-continue` makes the
    // server say when its handler starts reading the body: from then on
    // the request is in flight.
    let mut slow = tokio::io::BufReader::new(
        tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("connect"),
    );
    let head = format!(
        "POST /internal/alerts HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {INGEST}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n",
        server.addr
    );
    slow.get_mut()
        .write_all(head.as_bytes())
        .await
        .expect("send the head");
    let mut line = String::new();
    within("100 Continue", slow.read_line(&mut line))
        .await
        .expect("read");
    assert!(line.starts_with("HTTP/1.1 100"), "{line}");
    slow.get_mut()
        .write_all(br#"{"id": "half"#)
        .await
        .expect("send half a body");

    let took = server.stop_timed(Duration::from_secs(30)).await;
    println!("shutdown took {took:?}");
    // 5 s and what a loaded machine adds to a timer: far from 10 or 15 s.
    assert!(
        took < Duration::from_millis(6000),
        "shutdown took {took:?}; the contract gives it 5 s in all"
    );
    drop(lock);
    write.abort();
    common::drop_postgres_database(&database).await;
}
