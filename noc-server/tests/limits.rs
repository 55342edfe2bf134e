//! Each limit is a flag with a default, and each refuses clearly: too many
//! screens, too big a message or frame, too many sites, too many messages,
//! a foreign browser origin; and no token ever reaches the log.

mod common;

use std::time::Duration;

use common::{INGEST, Screen, TestServer, alert, within};
use futures_util::{SinkExt, StreamExt};
use noc_shared::{ServerMessage, SnapshotReason};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// Reads until the server closes; returns the close code.
async fn close_code(screen: &mut Screen) -> Option<u16> {
    within("the close", async {
        while let Some(frame) = screen.ws.next().await {
            if let Ok(Message::Close(frame)) = frame {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
}

/// The HTTP status of a refused WebSocket handshake.
async fn refused_status(request: impl IntoClientRequest + Unpin) -> u16 {
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected a refusal, the handshake succeeded"),
    }
}

#[tokio::test]
async fn screens_beyond_max_screens_are_refused_with_503() {
    let server = TestServer::start(&["--max-screens", "2"]).await;
    let mut first = Screen::connect(&server.ws_url("")).await;
    let mut second = Screen::connect(&server.ws_url("")).await;
    first.snapshot().await;
    second.snapshot().await;
    assert_eq!(refused_status(server.ws_url("")).await, 503);
    drop(first);
    // The slot comes back when a screen leaves.
    within("a free slot", async {
        loop {
            if let Ok((ws, _)) = tokio_tungstenite::connect_async(server.ws_url("")).await {
                return ws;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    server.stop().await;
}

/// Sends `text` as one WebSocket message, in fragments of `size` bytes.
async fn send_in_fragments(screen: &mut Screen, text: &str, size: usize) {
    let chunks: Vec<&[u8]> = text.as_bytes().chunks(size).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let opcode = match i {
            0 => OpCode::Data(Data::Text),
            _ => OpCode::Data(Data::Continue),
        };
        let frame = Frame::message(chunk.to_vec(), opcode, i + 1 == chunks.len());
        screen.ws.send(Message::Frame(frame)).await.ok();
    }
}

#[tokio::test]
async fn a_frame_over_max_ws_frame_closes_with_1009() {
    let server = TestServer::start(&["--max-ws-message", "4096", "--max-ws-frame", "1024"]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    // Under the message limit, over the frame limit.
    let big = format!(r#"{{"subscribe":["{}"]}}"#, "x".repeat(2000));
    screen.ws.send(Message::text(big)).await.ok();
    assert_eq!(close_code(&mut screen).await, Some(1009));
    server.stop().await;
}

#[tokio::test]
async fn a_message_over_max_ws_message_closes_with_1009_however_small_its_fragments() {
    let server = TestServer::start(&["--max-ws-message", "4096", "--max-ws-frame", "1024"]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    // Fragments under the frame limit make one message, taken whole while
    // it is under the message limit.
    let site = "s".repeat(3000);
    let subscribe = format!(r#"{{"subscribe":["{site}"]}}"#);
    send_in_fragments(&mut screen, &subscribe, 1000).await;
    let snapshot = screen.snapshot().await;
    assert_eq!(snapshot.reason, SnapshotReason::Subscribe);
    assert_eq!(snapshot.sites, Some(vec![site]), "the whole message");
    // Over it, though no fragment is over the frame limit.
    let big = format!(r#"{{"subscribe":["{}"]}}"#, "x".repeat(5000));
    send_in_fragments(&mut screen, &big, 1000).await;
    match within("the close", screen.ws.next()).await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1009),
        Some(Ok(Message::Text(text))) => panic!(
            "5,000 bytes over --max-ws-message 4096 were taken, and answered: {:.100}…",
            text.as_str()
        ),
        other => panic!("expected a close with 1009, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn subscriptions_over_the_site_limit_are_refused() {
    let server = TestServer::start(&["--max-subscription-sites", "3"]).await;
    assert_eq!(refused_status(server.ws_url("sites=a,b,c,d")).await, 422);
    let mut screen = Screen::connect(&server.ws_url("sites=a,b,c")).await;
    screen.snapshot().await;
    screen.send_text(r#"{"subscribe":["a","b","c","d"]}"#).await;
    match screen.next().await {
        ServerMessage::Error { message } => assert!(message.contains("at most 3"), "{message}"),
        other => panic!("expected an error, got {other:?}"),
    }
    // The old filter stays.
    server.post_ok(&alert("in-a", "a", "info")).await;
    server.post_ok(&alert("in-d", "d", "info")).await;
    let msg = screen.next().await;
    assert_eq!(
        msg.as_alert_event().map(|(_, e)| e.alert.id.as_str()),
        Some("in-a")
    );
    let marker = server.post_marker("a").await;
    screen.expect_marker(&marker).await;
    server.stop().await;
}

#[tokio::test]
async fn a_flooding_screen_is_told_then_closed_with_1008() {
    let server = TestServer::start(&["--max-client-rate", "5"]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    for _ in 0..20 {
        screen.send_text(r#"{"event":"pong","ts":1}"#).await;
    }
    match screen.next().await {
        ServerMessage::Error { message } => {
            assert!(message.contains("too many messages"), "{message}")
        }
        other => panic!("expected an error, got {other:?}"),
    }
    for _ in 0..300 {
        if screen
            .ws
            .send(Message::text(r#"{"event":"pong","ts":1}"#))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(close_code(&mut screen).await, Some(1008));
    server.stop().await;
}

#[tokio::test]
async fn foreign_browser_origins_are_refused_when_origins_are_set() {
    let server = TestServer::start(&[
        "--allowed-origins",
        "https://noc.example.org,http://wall.local:8080/",
    ])
    .await;
    let with_origin = |origin: &str| {
        let mut request = server.ws_url("").into_client_request().expect("request");
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("header"));
        request
    };
    assert_eq!(
        refused_status(with_origin("https://evil.example")).await,
        403
    );
    for allowed in ["https://noc.example.org", "http://WALL.local:8080"] {
        tokio_tungstenite::connect_async(with_origin(allowed))
            .await
            .unwrap_or_else(|e| panic!("{allowed}: {e}"));
    }
    // The server's own page (its origin is the Host it was served from).
    let own = format!("http://{}", server.addr);
    tokio_tungstenite::connect_async(with_origin(&own))
        .await
        .expect("same origin");
    // A terminal client sends no Origin.
    Screen::connect(&server.ws_url("")).await.snapshot().await;
    server.stop().await;
}

#[tokio::test]
async fn no_token_is_ever_written_to_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        "[[user]]\nemail = \"op@noc.example\"\ntoken = \"user-secret-42\"\n",
    )
    .expect("write");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_noc-server"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--viewer-token",
            "viewer-secret-42",
        ])
        .arg("--users-file")
        .arg(&users)
        .arg("--database")
        .arg(format!("sqlite://{}", dir.path().join("noc.db").display()))
        .env("NOC_INGEST_TOKEN", INGEST)
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    within("the server", async {
        while http.get(format!("{base}/healthz")).send().await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    http.post(format!("{base}/internal/alerts"))
        .bearer_auth(INGEST)
        .json(&alert("t1", "A", "info"))
        .send()
        .await
        .expect("post");
    http.post(format!("{base}/internal/alerts"))
        .bearer_auth("wrong-secret-42")
        .json(&alert("t2", "A", "info"))
        .send()
        .await
        .expect("post");
    http.post(format!("{base}/api/v1/alerts/t1/ack"))
        .bearer_auth("user-secret-42")
        .send()
        .await
        .expect("ack");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://127.0.0.1:{port}/ws/alerts?token=viewer-secret-42"
    ))
    .await
    .expect("ws");
    ws.next().await;
    drop(ws);
    let pid = child.id().expect("pid").to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let output = within("the exit", child.wait_with_output())
        .await
        .expect("output");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("op@noc.example"),
        "the user's writes are logged: {log}"
    );
    for secret in [
        INGEST,
        "wrong-secret-42",
        "user-secret-42",
        "viewer-secret-42",
    ] {
        assert!(!log.contains(secret), "{secret} appears in the log");
    }
}
