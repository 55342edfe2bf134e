//! A screen's round-trip time: measured from the heartbeat a pong answers,
//! never from another one, and not at all for a pong that answers nothing.
//!
//! The client here speaks WebSocket by hand, because a client library
//! answers every Ping by itself, and these tests must choose what to answer.

mod common;

use std::net::SocketAddr;

use common::{TestServer, within};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

const TEXT: u8 = 0x1;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// A WebSocket client that sends only what the test tells it to.
struct RawScreen {
    stream: BufReader<TcpStream>,
}

impl RawScreen {
    async fn connect(addr: SocketAddr, query: &str) -> RawScreen {
        let tcp = within("the TCP connection", TcpStream::connect(addr))
            .await
            .expect("connect");
        let mut stream = BufReader::new(tcp);
        let request = format!(
            "GET /ws/alerts?{query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("send the upgrade");
        let mut status = String::new();
        within("the upgrade answer", stream.read_line(&mut status))
            .await
            .expect("read");
        assert!(status.starts_with("HTTP/1.1 101"), "{status}");
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.expect("read a header");
            if line == "\r\n" {
                break;
            }
        }
        RawScreen { stream }
    }

    /// The next frame from the server: its opcode and payload.
    async fn frame(&mut self) -> (u8, Vec<u8>) {
        within("a frame", async {
            let mut head = [0; 2];
            self.stream
                .read_exact(&mut head)
                .await
                .expect("frame header");
            let len = match head[1] & 0x7f {
                126 => u64::from(self.stream.read_u16().await.expect("length")),
                127 => self.stream.read_u64().await.expect("length"),
                n => u64::from(n),
            };
            let mut payload = vec![0; usize::try_from(len).expect("length")];
            self.stream.read_exact(&mut payload).await.expect("payload");
            (head[0] & 0x0f, payload)
        })
        .await
    }

    /// Reads up to the next Ping and returns the seconds it carries.
    async fn ping(&mut self) -> i64 {
        loop {
            if let (PING, payload) = self.frame().await {
                let bytes = payload.try_into().expect("8 bytes of seconds");
                return i64::from_be_bytes(bytes);
            }
        }
    }

    /// Sends one frame, masked as a client must.
    async fn send(&mut self, opcode: u8, payload: &[u8]) {
        assert!(payload.len() < 126, "short frames only");
        let mask = [0x5a, 0x13, 0xc7, 0x01];
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        self.stream
            .get_mut()
            .write_all(&frame)
            .await
            .expect("send a frame");
    }

    async fn send_text(&mut self, text: &str) {
        self.send(TEXT, text.as_bytes()).await;
    }

    /// Sends a subscribe and reads up to its snapshot: everything sent
    /// before it has been handled by then.
    async fn round_trip(&mut self) {
        self.send_text(r#"{"subscribe":["*"]}"#).await;
        loop {
            let (opcode, payload) = self.frame().await;
            if opcode == TEXT
                && String::from_utf8_lossy(&payload).contains(r#""reason":"subscribe""#)
            {
                return;
            }
        }
    }
}

/// The `rtt_ms` that `/api/v1/screens` shows for the screen named `name`.
async fn rtt_of(server: &TestServer, name: &str) -> Option<u64> {
    let screens = server.get_json("/api/v1/screens").await;
    let screen = screens
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} is listed: {screens}"))
        .clone();
    screen["rtt_ms"].as_u64()
}

#[tokio::test]
async fn a_late_pong_is_measured_from_the_heartbeat_it_answers() {
    let server = TestServer::start(&["--heartbeat-interval", "400ms"]).await;
    let mut screen = RawScreen::connect(server.addr, "client=late").await;
    let first = screen.ping().await;
    let first_read = Instant::now();
    // The next heartbeat goes out before the first one is answered.
    screen.ping().await;
    let answered = Instant::now();
    screen
        .send_text(&format!(r#"{{"event":"pong","ts":{first}}}"#))
        .await;
    screen.round_trip().await;
    // The first heartbeat left the server before the client read it, and its
    // answer arrived after the client sent it.
    let at_least = u64::try_from((answered - first_read).as_millis()).expect("ms");
    let rtt = rtt_of(&server, "late").await;
    assert!(
        rtt.is_some_and(|ms| ms >= at_least),
        "rtt_ms {rtt:?}: the answer to the first heartbeat came at least {at_least} ms after it"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_pong_that_answers_no_heartbeat_sets_no_rtt() {
    let server = TestServer::start(&["--heartbeat-interval", "300ms"]).await;
    let mut screen = RawScreen::connect(server.addr, "client=wrong").await;
    let ts = screen.ping().await;
    // Answers that match nothing sent: a wrong `ts`, a Pong frame with
    // other seconds, a pong without `ts`. Each is still a sign of life.
    screen.send_text(r#"{"event":"pong","ts":1}"#).await;
    screen.send(PONG, &1i64.to_be_bytes()).await;
    screen.send(PONG, b"hello").await;
    screen.send_text(r#"{"event":"pong"}"#).await;
    screen.round_trip().await;
    assert_eq!(rtt_of(&server, "wrong").await, None, "nothing was measured");
    // The Pong frame that does answer the heartbeat is measured.
    screen.send(PONG, &ts.to_be_bytes()).await;
    screen.round_trip().await;
    let rtt = rtt_of(&server, "wrong").await;
    assert!(
        rtt.is_some_and(|ms| ms < 60_000),
        "the matching Pong sets rtt_ms: {rtt:?}"
    );
    server.stop().await;
}
