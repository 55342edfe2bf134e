//! The network task against a scripted WebSocket server, for what the real
//! server cannot be made to do on cue: stay silent, send a Ping frame, drop
//! a connection.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Client, within};
use futures_util::{SinkExt, StreamExt};
use noc_shared::{ClientMessage, ServerMessage, Severity, Snapshot, SnapshotReason};
use noc_tui::app::Link;
use noc_tui::net::NetEvent;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// What the client sent with its upgrade request.
#[derive(Debug, Default, Clone)]
struct Upgrade {
    uri: String,
    authorization: Option<String>,
}

/// Accepts one WebSocket connection and records its upgrade request.
async fn accept(listener: &TcpListener) -> (WebSocketStream<TcpStream>, Upgrade) {
    let (stream, _) = within("a connection", listener.accept())
        .await
        .expect("accept");
    let seen = Arc::new(Mutex::new(Upgrade::default()));
    let record = seen.clone();
    // The closure's error type is tungstenite's, whatever its size.
    #[allow(clippy::result_large_err)]
    let callback = move |request: &Request, response: Response| {
        let mut upgrade = record.lock().expect("not poisoned");
        upgrade.uri = request.uri().to_string();
        upgrade.authorization = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(response)
    };
    let ws = within(
        "the handshake",
        tokio_tungstenite::accept_hdr_async(stream, callback),
    )
    .await
    .expect("handshake");
    let upgrade = seen.lock().expect("not poisoned").clone();
    (ws, upgrade)
}

/// The next text frame from the client, as a client message.
async fn next_client_message(ws: &mut WebSocketStream<TcpStream>) -> ClientMessage {
    loop {
        let frame = within("a client frame", ws.next())
            .await
            .expect("open")
            .expect("frame");
        if let Message::Text(text) = frame {
            return ClientMessage::from_json(&text).expect("a contract message");
        }
    }
}

fn snapshot(heartbeat_ms: u64) -> Message {
    let msg = ServerMessage::Snapshot(Snapshot {
        reason: SnapshotReason::Connect,
        seq: 0,
        sites: None,
        min_severity: Severity::Info,
        heartbeat_ms,
        alerts: vec![],
        truncated: false,
        profile: None,
    });
    Message::text(msg.to_json())
}

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("addr"));
    (listener, url)
}

#[tokio::test]
async fn subscribes_after_every_connect_with_filter_name_and_token() {
    let (listener, url) = listener().await;
    let client = Client::start(&[
        "--url",
        &url,
        "--sites",
        "Kilimanjaro,Serengeti",
        "--min-severity",
        "high",
        "--name",
        "wall-7",
        "--token",
        "t0k3n",
    ]);
    for round in 0..2 {
        let (mut ws, upgrade) = accept(&listener).await;
        assert_eq!(
            upgrade.uri, "/ws/alerts?sites=Kilimanjaro%2CSerengeti&min_severity=high&client=wall-7",
            "round {round}"
        );
        assert_eq!(upgrade.authorization.as_deref(), Some("Bearer t0k3n"));
        assert_eq!(
            next_client_message(&mut ws).await,
            ClientMessage::Subscribe {
                sites: vec!["Kilimanjaro".into(), "Serengeti".into()],
                min_severity: Some(Severity::High),
            },
            "round {round}"
        );
        // Drop the connection; the client must come back and subscribe again.
        drop(ws);
    }
    client.stop().await;
}

#[tokio::test]
async fn answers_heartbeats_with_pongs_and_pings_with_pongs() {
    let (listener, url) = listener().await;
    let client = Client::start(&["--url", &url]);
    let (mut ws, _) = accept(&listener).await;
    next_client_message(&mut ws).await; // the subscribe
    ws.send(snapshot(30_000)).await.expect("send");
    ws.send(Message::text(r#"{"event":"heartbeat","ts":1764358800}"#))
        .await
        .expect("send");
    assert_eq!(
        next_client_message(&mut ws).await,
        ClientMessage::Pong {
            ts: Some(1764358800)
        }
    );
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("send");
    let pong = within("the Pong frame", async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Pong(data))) => return data,
                Some(Ok(_)) => continue,
                other => panic!("connection ended: {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(&pong[..], b"are you there");
    client.stop().await;
}

#[tokio::test]
async fn a_link_silent_for_three_heartbeats_is_dead_and_redialled() {
    let (listener, url) = listener().await;
    let mut client = Client::start(&["--url", &url]);
    let (mut ws, _) = accept(&listener).await;
    next_client_message(&mut ws).await;
    ws.send(snapshot(100)).await.expect("send");
    client
        .until("the snapshot", |_, e| {
            matches!(e, NetEvent::Message(ServerMessage::Snapshot(_)))
        })
        .await;
    // Now say nothing, but keep the socket open (and keep reading, so the
    // client's frames are not what ends it).
    let silent_since = Instant::now();
    let keep_open = tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
    client
        .until("the link to be called dead", |_, e| {
            matches!(e, NetEvent::Disconnected { .. })
        })
        .await;
    let waited = silent_since.elapsed();
    assert!(
        waited >= Duration::from_millis(280) && waited < Duration::from_secs(3),
        "declared dead after {waited:?}, expected about 3 × 100 ms"
    );
    match &client.app.link {
        Link::Disconnected { reason, .. } => {
            assert!(reason.contains("three heartbeats"), "{reason}")
        }
        other => panic!("unexpected state {other:?}"),
    }
    // And it dials again by itself.
    let (mut again, _) = accept(&listener).await;
    assert!(matches!(
        next_client_message(&mut again).await,
        ClientMessage::Subscribe { .. }
    ));
    keep_open.abort();
    client.stop().await;
}

#[tokio::test]
async fn quitting_closes_the_socket_with_a_close_frame() {
    let (listener, url) = listener().await;
    let client = Client::start(&["--url", &url]);
    let (mut ws, _) = accept(&listener).await;
    next_client_message(&mut ws).await;
    ws.send(snapshot(30_000)).await.expect("send");
    let stopping = tokio::spawn(client.stop());
    let closed = within("a Close frame", async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => continue,
                _ => return false,
            }
        }
    })
    .await;
    assert!(closed, "the client said goodbye");
    within("the client to stop", stopping)
        .await
        .expect("stopped");
}
