//! The network task: dials the server, keeps the link alive, and turns what
//! arrives into [`NetEvent`]s for the screen. It runs on its own tokio task
//! so the screen never waits on the network and the network never waits on
//! a redraw.
//!
//! Channels: the task sends [`NetEvent`]s on a bounded channel the screen
//! (or plain mode) reads; the screen sends [`Command`]s the other way. The
//! screen owns the command sender: dropping it (or the event receiver) ends
//! the task, which then closes the socket politely.

pub mod backoff;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use noc_shared::{ClientMessage, ServerMessage};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use url::Url;

pub use backoff::Backoff;

use crate::cli::Config;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the network task tells the screen.
// Each event is built once and moved through a channel into `update`;
// boxing the message would cost an allocation per event for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum NetEvent {
    /// Dialling `url`; `attempt` counts tries since the last good link.
    Connecting { url: String, attempt: u32 },
    /// The WebSocket is open and the subscription was sent.
    Connected { url: String },
    /// A message from the server (heartbeats included, so the screen can
    /// show their age).
    Message(ServerMessage),
    /// The link to `url` failed or was lost; the next try is in `retry_in`.
    Disconnected {
        url: String,
        reason: String,
        retry_in: Duration,
    },
}

/// What the screen asks of the network task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Stop waiting and dial now (the `r` key).
    ReconnectNow,
}

/// Timings of the network task; the defaults are the product's, tests
/// shorten them.
#[derive(Debug, Clone)]
pub struct NetOptions {
    pub backoff: Backoff,
    /// A link up at least this long resets the backoff.
    pub stable_after: Duration,
    /// Give up on a connection attempt (TCP, TLS, upgrade) after this.
    pub connect_timeout: Duration,
    /// The heartbeat interval assumed until the snapshot tells the real one.
    pub default_heartbeat: Duration,
    /// How long a single write may take before the link is called dead.
    pub write_timeout: Duration,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            backoff: Backoff::default(),
            stable_after: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            default_heartbeat: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// Why a session or a wait ended.
#[derive(Debug)]
enum End {
    /// The link is gone, for this reason; try again.
    Lost(String),
    /// The screen went away; stop.
    Quit,
}

/// Runs until the screen drops its end of either channel: connect, follow
/// the stream, and on any failure wait (backoff with jitter) and move on to
/// the next URL, forever.
pub async fn run(
    config: Config,
    mut options: NetOptions,
    events: mpsc::Sender<NetEvent>,
    mut commands: mpsc::Receiver<Command>,
) {
    let mut rng = StdRng::from_os_rng();
    let mut next_url = 0usize;
    let mut attempt = 1u32;
    loop {
        let Some(base) = config.urls.get(next_url % config.urls.len().max(1)) else {
            return; // no URL at all: nothing to do (Config never allows it)
        };
        let shown = base.to_string();
        if events
            .send(NetEvent::Connecting {
                url: shown.clone(),
                attempt,
            })
            .await
            .is_err()
        {
            return;
        }
        let started = Instant::now();
        let end = match connect(&config, base, &options).await {
            Ok(socket) => {
                tracing::info!(url = %shown, "connected");
                if events
                    .send(NetEvent::Connected { url: shown.clone() })
                    .await
                    .is_err()
                {
                    return;
                }
                session(socket, &config, &options, &events, &mut commands).await
            }
            Err(reason) => End::Lost(reason),
        };
        let reason = match end {
            End::Quit => return,
            End::Lost(reason) => reason,
        };
        if started.elapsed() >= options.stable_after {
            options.backoff.reset();
            attempt = 0;
        }
        attempt = attempt.saturating_add(1);
        next_url = next_url.wrapping_add(1);
        let retry_in = options.backoff.next_delay(&mut rng);
        tracing::warn!(url = %shown, %reason, ?retry_in, "link lost");
        if events
            .send(NetEvent::Disconnected {
                url: shown,
                reason,
                retry_in,
            })
            .await
            .is_err()
        {
            return;
        }
        if let End::Quit = wait_for_retry(retry_in, &mut commands).await {
            return;
        }
    }
}

/// Waits `delay`, or less when the screen asks to reconnect now.
async fn wait_for_retry(delay: Duration, commands: &mut mpsc::Receiver<Command>) -> End {
    let deadline = Instant::now() + delay;
    tokio::select! {
        () = sleep_until(deadline) => End::Lost(String::new()),
        command = commands.recv() => match command {
            Some(Command::ReconnectNow) => End::Lost(String::new()),
            None => End::Quit,
        },
    }
}

/// Dials `base` with the filter and name in the query and the token, if
/// any, as a bearer header; `wss://` with the TLS configuration built at
/// start.
async fn connect(config: &Config, base: &Url, options: &NetOptions) -> Result<Socket, String> {
    let url = config.connect_url(base);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| describe_ws_error(&e))?;
    if let Some(token) = &config.token {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "the token holds characters a header cannot carry".to_owned())?;
        request.headers_mut().insert(header::AUTHORIZATION, value);
    }
    let connector = match &config.tls {
        Some(tls) => Connector::Rustls(tls.clone()),
        // `Config::from_cli` always builds one for `wss://`; never let
        // tokio-tungstenite fall back to roots of its own choosing.
        None if base.scheme() == "wss" => {
            return Err("no TLS configuration for wss://".to_owned());
        }
        None => Connector::Plain,
    };
    match timeout(
        options.connect_timeout,
        tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(connector)),
    )
    .await
    {
        Err(_) => Err(format!(
            "no answer within {}s",
            options.connect_timeout.as_secs()
        )),
        Ok(Err(e)) => Err(describe_ws_error(&e)),
        Ok(Ok((socket, _response))) => Ok(socket),
    }
}

/// A connection error in words an operator can act on.
fn describe_ws_error(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => match response.status().as_u16() {
            401 => "the server refused the token (401); check --token".to_owned(),
            404 => "no WebSocket at this path (404); check --url".to_owned(),
            code => format!("the server answered HTTP {code} instead of a WebSocket"),
        },
        tungstenite::Error::Io(e) => match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => describe_tls_error(tls),
            None => e.to_string(),
        },
        other => other.to_string(),
    }
}

/// A failed TLS handshake, with the likely fix where there is one.
pub(crate) fn describe_tls_error(error: &rustls::Error) -> String {
    use rustls::CertificateError as Cert;
    match error {
        rustls::Error::InvalidCertificate(Cert::UnknownIssuer) => format!(
            "TLS: the server's certificate is not signed by a trusted CA ({error}); \
             give its CA with --ca-file or add it to the system's store"
        ),
        rustls::Error::InvalidCertificate(
            Cert::NotValidForName | Cert::NotValidForNameContext { .. },
        ) => format!(
            "TLS: the server's certificate is not for this host name ({error}); check --url"
        ),
        other => format!("TLS: {other}"),
    }
}

/// Follows one open connection until it ends: subscribe, forward messages,
/// answer heartbeats, and call the link dead after three silent heartbeat
/// intervals.
async fn session(
    mut socket: Socket,
    config: &Config,
    options: &NetOptions,
    events: &mpsc::Sender<NetEvent>,
    commands: &mut mpsc::Receiver<Command>,
) -> End {
    let subscribe = config.subscribe_message().to_json();
    if let Err(e) = send_text(&mut socket, subscribe, options).await {
        return End::Lost(e);
    }
    let mut heartbeat = options.default_heartbeat;
    let mut deadline = Instant::now() + heartbeat * 3;
    loop {
        tokio::select! {
            frame = socket.next() => {
                // Any frame at all is a sign of life.
                deadline = Instant::now() + heartbeat * 3;
                let message = match frame {
                    None => return End::Lost("the server closed the connection".to_owned()),
                    Some(Err(e)) => return End::Lost(describe_ws_error(&e)),
                    Some(Ok(Message::Close(frame))) => return End::Lost(describe_close(frame.as_ref())),
                    Some(Ok(Message::Ping(_))) => {
                        // tungstenite has queued the Pong; push it out now
                        // rather than on the next read.
                        if let Err(e) = timeout(options.write_timeout, socket.flush()).await.unwrap_or_else(|_| Err(tungstenite::Error::Io(std::io::ErrorKind::TimedOut.into()))) {
                            return End::Lost(describe_ws_error(&e));
                        }
                        continue;
                    }
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMessage>(&text) {
                        Ok(message) => message,
                        Err(e) => {
                            // A newer server may send events this client does not
                            // know; skip them rather than drop the link.
                            tracing::debug!(error = %e, "unknown message skipped");
                            continue;
                        }
                    },
                    Some(Ok(_)) => continue,
                };
                match &message {
                    ServerMessage::Heartbeat { ts } => {
                        let pong = ClientMessage::Pong { ts: Some(*ts) }.to_json();
                        if let Err(e) = send_text(&mut socket, pong, options).await {
                            return End::Lost(e);
                        }
                    }
                    ServerMessage::Snapshot(snapshot) => {
                        heartbeat = Duration::from_millis(snapshot.heartbeat_ms.max(1));
                        deadline = Instant::now() + heartbeat * 3;
                    }
                    _ => {}
                }
                if events.send(NetEvent::Message(message)).await.is_err() {
                    close(&mut socket).await;
                    return End::Quit;
                }
            }
            () = sleep_until(deadline) => {
                return End::Lost(format!(
                    "nothing heard for {} (three heartbeats); link considered dead",
                    human_duration(heartbeat * 3)
                ));
            }
            command = commands.recv() => match command {
                // Already connected: nothing to hurry.
                Some(Command::ReconnectNow) => {}
                None => {
                    close(&mut socket).await;
                    return End::Quit;
                }
            },
        }
    }
}

/// Sends one text frame, under the write timeout.
async fn send_text(socket: &mut Socket, text: String, options: &NetOptions) -> Result<(), String> {
    match timeout(
        options.write_timeout,
        socket.send(Message::Text(text.into())),
    )
    .await
    {
        Err(_) => Err("the server stopped reading (write timed out)".to_owned()),
        Ok(Err(e)) => Err(describe_ws_error(&e)),
        Ok(Ok(())) => Ok(()),
    }
}

/// Says goodbye with a normal close, without waiting long for the answer.
async fn close(socket: &mut Socket) {
    let _ = timeout(Duration::from_secs(1), socket.close(None)).await;
}

fn describe_close(frame: Option<&CloseFrame>) -> String {
    match frame {
        Some(frame) if !frame.reason.is_empty() => format!(
            "the server closed the connection ({} {})",
            u16::from(frame.code),
            frame.reason
        ),
        Some(frame) => format!(
            "the server closed the connection ({})",
            u16::from(frame.code)
        ),
        None => "the server closed the connection".to_owned(),
    }
}

/// `90s`, `1.5s`, `300ms`: short and exact enough for a header.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_the_whole_delay_unless_told_otherwise() {
        let (tx, mut rx) = mpsc::channel(1);
        let start = Instant::now();
        let end = wait_for_retry(Duration::from_secs(4), &mut rx).await;
        assert!(matches!(end, End::Lost(_)));
        assert_eq!(start.elapsed(), Duration::from_secs(4));

        let start = Instant::now();
        tx.send(Command::ReconnectNow).await.expect("open");
        let end = wait_for_retry(Duration::from_secs(30), &mut rx).await;
        assert!(matches!(end, End::Lost(_)));
        assert_eq!(start.elapsed(), Duration::ZERO);

        drop(tx);
        let end = wait_for_retry(Duration::from_secs(30), &mut rx).await;
        assert!(matches!(end, End::Quit));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_follow_the_backoff_in_virtual_time() {
        // Drive the real loop against a URL nothing listens on, with virtual
        // time: the gaps between attempts are the backoff's.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let config = crate::app::tests::config(&["--url", &format!("ws://127.0.0.1:{port}")]);
        let (events_tx, mut events_rx) = mpsc::channel(16);
        let (_commands_tx, commands_rx) = mpsc::channel(1);
        let task = tokio::spawn(run(config, NetOptions::default(), events_tx, commands_rx));
        let mut waits = Vec::new();
        while waits.len() < 6 {
            let event = timeout(Duration::from_secs(600), events_rx.recv())
                .await
                .expect("an event in time")
                .expect("task alive");
            if let NetEvent::Disconnected { retry_in, .. } = event {
                waits.push(retry_in);
            }
        }
        task.abort();
        let ceilings = [1.0, 2.0, 4.0, 8.0, 16.0, 30.0];
        for (wait, ceiling) in waits.iter().zip(ceilings) {
            let ceiling = Duration::from_secs_f64(ceiling);
            assert!(*wait <= ceiling && *wait >= ceiling / 2, "{waits:?}");
        }
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(90)), "90s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human_duration(Duration::from_millis(300)), "300ms");
    }
}
