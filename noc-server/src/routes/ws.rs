//! `GET /ws/alerts`: one task per screen. It subscribes to the hub before it
//! reads its snapshot, then `select!`s over its outlet, the socket, the
//! heartbeat tick and the shutdown token.
//!
//! Event frames do not pass through this task: the hub writes them to the
//! socket itself (see `outlet`), and wakes this task only when the socket
//! did not take them all or the screen lagged. Reading (pongs, subscribe)
//! is tungstenite's; everything the screen is sent goes through its outlet,
//! in order.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::Response;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use noc_shared::{
    ClientMessage, ServerMessage, Severity, SiteFilter, Snapshot, SnapshotReason, parse_site_list,
};
use tokio::io::{AsyncWrite, AsyncWriteExt, Join, ReadHalf, WriteHalf};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::time::{Instant, interval_at, timeout};
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Error as WsError, Message};

use super::upgrade::Upgrade;
use crate::auth::bearer;
use crate::error::ApiError;
use crate::hub::Subscription;
use crate::ingest::min_severity_param;
use crate::outlet::{Flushed, Outlet, text_frame};
use crate::screens::ScreenHandle;
use crate::socket::Peer;
use crate::store::SNAPSHOT_LIMIT;
use crate::{AppState, normalize_origin};

/// The most tungstenite may hold unwritten: it writes each frame into the
/// outlet at once, so this only guards against a bug.
const MAX_WRITE_BUFFER: usize = 1024 * 1024;

/// Close codes (RFC 6455).
const GOING_AWAY: u16 = 1001;
const TOO_BIG: u16 = 1009;
const INTERNAL: u16 = 1011;
const NORMAL: u16 = 1000;
const POLICY: u16 = 1008;
/// Refused messages in a row after which a flooding screen is closed.
const FLOOD: u32 = 200;

pub async fn ws_alerts(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Query(params): Query<HashMap<String, String>>,
    mut request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let token = params
        .get("token")
        .map(String::as_str)
        .or_else(|| bearer(headers));
    if !state.auth.may_view(token) {
        return Err(ApiError::Unauthorized);
    }
    check_origin(&state, headers)?;
    let upgrade = Upgrade::from_request(&mut request).map_err(|e| {
        ApiError::BadRequest(format!("{e}: /ws/alerts takes a WebSocket connection"))
    })?;
    let min_severity = min_severity_param(params.get("min_severity").map(String::as_str))?;
    let filter = state.filter(
        params.get("sites").and_then(|s| parse_site_list(s)),
        min_severity,
    );
    check_site_count(&state, &filter).map_err(ApiError::Unprocessable)?;
    let name = params
        .get("client")
        .map(|s| s.trim().chars().take(100).collect::<String>())
        .filter(|s| !s.is_empty());
    // Held by the connection for its whole life.
    let slot = state.screen_slots.clone().try_acquire_owned().map_err(|_| {
        tracing::warn!(addr = %peer.addr, limit = state.limits.max_screens, "screen refused: --max-screens reached");
        ApiError::Busy(format!(
            "too many screens connected (the limit is {}); try again later or raise --max-screens",
            state.limits.max_screens
        ))
    })?;
    let response = upgrade.response();
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        let upgraded = match upgrade.on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(e) => {
                tracing::debug!(addr = %peer.addr, error = %e, "WebSocket upgrade failed");
                return;
            }
        };
        let screen = state
            .screens
            .connect(name, peer.addr, filter.sites().map(<[String]>::to_vec));
        let sub = state.hub.subscribe(filter.clone(), peer.socket.clone());
        let (read, write) = tokio::io::split(TokioIo::new(upgraded));
        let sink = match peer.socket {
            Some(socket) => Sink::Shared(socket),
            None => Sink::Stream(write),
        };
        // tungstenite reads the connection and writes into the outlet.
        let io = tokio::io::join(read, OutletWriter(sub.outlet().clone()));
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(ws_config(&state))).await;
        let mut conn = Connection::new(state, screen, sub, filter, sink);
        conn.run(ws).await;
        drop(slot);
    });
    Ok(response)
}

fn ws_config(state: &AppState) -> WebSocketConfig {
    let limits = &state.limits;
    WebSocketConfig::default()
        // Screens send little (a pong per heartbeat): a small read buffer
        // keeps idle screens cheap.
        .read_buffer_size(512)
        // Frames go straight into the outlet, which does the buffering.
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(Some(limits.max_ws_message))
        .max_frame_size(Some(limits.max_ws_frame.min(limits.max_ws_message)))
}

/// Where tungstenite writes: into the outlet, so that its pongs and close
/// frames keep their place among the frames the hub writes.
struct OutletWriter(Arc<Outlet>);

impl AsyncWrite for OutletWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Whole frames only: tungstenite writes its buffer until it is
        // empty, and this takes all of it at once.
        self.0.send(Bytes::copy_from_slice(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pong tungstenite answers by itself must be written too.
        self.0.nudge();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Where a screen's task writes what its outlet holds.
enum Sink {
    /// The plain TCP socket the hub writes to as well.
    Shared(Arc<OwnedWriteHalf>),
    /// The connection's own write side (TLS).
    Stream(WriteHalf<TokioIo<Upgraded>>),
}

type Ws = WebSocketStream<Join<ReadHalf<TokioIo<Upgraded>>, OutletWriter>>;

/// Refuses a browser page from an origin that `--allowed-origins` does not
/// name (cross-site WebSocket hijacking). The server's own origin and
/// requests without `Origin` (not from a browser page) pass.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    if state.allowed_origins.is_empty() {
        return Ok(());
    }
    let origin = origin.to_str().map(normalize_origin).unwrap_or_default();
    // The server's own page is always welcome: its origin's host is the
    // `Host` the request came to.
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_lowercase);
    let same_origin =
        host.is_some_and(|host| origin.split_once("://").is_some_and(|(_, h)| h == host));
    if same_origin || state.allowed_origins.contains(&origin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "origin {origin:?} is not in --allowed-origins"
        )))
    }
}

/// A subscription may name at most `--max-subscription-sites` sites.
fn check_site_count(state: &AppState, filter: &SiteFilter) -> Result<(), String> {
    let count = filter.sites().map_or(0, <[String]>::len);
    let max = state.limits.max_subscription_sites;
    if count > max {
        return Err(format!(
            "the subscription names {count} sites; at most {max} are allowed"
        ));
    }
    Ok(())
}

/// A token bucket over a screen's messages: `rate` per second, bursts of
/// twice that.
struct RateLimit {
    rate: f64,
    tokens: f64,
    last: Instant,
    /// Messages refused since the last one let through.
    refused: u32,
}

impl RateLimit {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        RateLimit {
            rate,
            tokens: rate * 2.0,
            last: Instant::now(),
            refused: 0,
        }
    }

    /// Takes a token if there is one.
    fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate)
            .min(self.rate * 2.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused = 0;
            true
        } else {
            self.refused += 1;
            false
        }
    }
}

/// Why a connection ended, when it was not the screen's own choice.
enum End {
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The socket failed; nothing more can be sent.
    Broken,
}

impl From<WsError> for End {
    fn from(_: WsError) -> Self {
        End::Broken
    }
}

impl From<io::Error> for End {
    fn from(_: io::Error) -> Self {
        End::Broken
    }
}

struct Connection {
    state: AppState,
    screen: ScreenHandle,
    sub: Subscription,
    sink: Sink,
    filter: SiteFilter,
    last_heard: Instant,
    heartbeat_sent: Option<Instant>,
    rate: RateLimit,
}

impl Connection {
    fn new(
        state: AppState,
        screen: ScreenHandle,
        sub: Subscription,
        filter: SiteFilter,
        sink: Sink,
    ) -> Self {
        let rate = RateLimit::new(state.limits.max_client_rate);
        Connection {
            state,
            screen,
            sub,
            sink,
            filter,
            last_heard: Instant::now(),
            heartbeat_sent: None,
            rate,
        }
    }

    /// Three silent heartbeat intervals and a screen is gone; a write that
    /// cannot finish within as long means the same.
    fn dead_after(&self) -> Duration {
        self.state.heartbeat * 3
    }

    async fn run(&mut self, mut ws: Ws) {
        let end = self.serve(&mut ws).await;
        self.sub.outlet().close();
        if let Err(End::Close(code, reason)) = end {
            let close = Message::Close(Some(CloseFrame {
                code: code.into(),
                reason: reason.into(),
            }));
            let _ = ws.send(close).await;
        }
        // Lets tungstenite queue what it still owes, such as its answer to
        // the screen's own close frame.
        let _ = ws.flush().await;
        // What is still queued (a close frame, tungstenite's answer to the
        // screen's own close) goes out if the socket takes it soon.
        if !matches!(end, Err(End::Broken)) {
            let _ = timeout(Duration::from_secs(1), self.write_out()).await;
        }
    }

    async fn serve(&mut self, ws: &mut Ws) -> Result<(), End> {
        // The handlers below are boxed: a task is as large as its largest
        // state, and 10,000 idle screens should not each carry room for a
        // snapshot or a heartbeat in progress (3.2 KB → 2.1 KB a task).
        Box::pin(self.send_snapshot(SnapshotReason::Connect)).await?;
        let period = self.state.heartbeat;
        let mut tick = interval_at(Instant::now() + period, period);
        let shutdown = self.state.shutdown.clone();
        // Made once: a new `cancelled()` each turn would register and
        // unregister with the token on every wake-up.
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        let outlet = self.sub.outlet().clone();
        loop {
            tokio::select! {
                biased;
                () = &mut cancelled => return Err(End::Close(GOING_AWAY, "server shutting down")),
                () = outlet.woken() => Box::pin(self.on_wake()).await?,
                message = ws.next() => match message {
                    None | Some(Ok(Message::Close(_))) => return Ok(()),
                    Some(Err(e)) => return Err(read_error(&e)),
                    Some(Ok(message)) => Box::pin(self.on_message(message)).await?,
                },
                _ = tick.tick() => Box::pin(self.heartbeat(ws)).await?,
            }
        }
    }

    /// The hub left bytes in the outlet, or the screen lagged.
    async fn on_wake(&mut self) -> Result<(), End> {
        if self.sub.outlet().take_lagged() {
            self.screen.lagged();
            return self.send_snapshot(SnapshotReason::Lagged).await;
        }
        self.flush().await
    }

    /// Writes everything the outlet holds, or fails when the socket takes
    /// nothing for [`Connection::dead_after`].
    async fn flush(&mut self) -> Result<(), End> {
        timeout(self.dead_after(), self.write_out())
            .await
            .map_err(|_| End::Broken)?
    }

    async fn write_out(&mut self) -> Result<(), End> {
        match &mut self.sink {
            Sink::Shared(socket) => loop {
                match self.sub.outlet().flush() {
                    Flushed::Done => return Ok(()),
                    Flushed::Blocked => socket.writable().await?,
                    Flushed::Failed => return Err(End::Broken),
                }
            },
            Sink::Stream(stream) => {
                for chunk in self.sub.outlet().take_queued() {
                    stream.write_all(&chunk).await?;
                }
                Ok(stream.flush().await?)
            }
        }
    }

    /// Reads a snapshot for the current filter and queues it, then the
    /// events it does not hold. The outlet is paused already (new, lagged
    /// or resubscribed), so no event slips in before it.
    async fn send_snapshot(&mut self, reason: SnapshotReason) -> Result<(), End> {
        let snapshot = match self
            .state
            .store
            .snapshot(&self.filter, SNAPSHOT_LIMIT)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read a snapshot for a screen");
                let message = ServerMessage::Error {
                    message: "the alert store is unavailable; reconnect later".into(),
                };
                self.sub.outlet().send(text_frame(message.to_json()));
                return Err(End::Close(INTERNAL, "alert store unavailable"));
            }
        };
        let seq = snapshot.seq;
        let message = ServerMessage::Snapshot(Snapshot {
            reason,
            seq,
            sites: self.filter.sites().map(<[String]>::to_vec),
            min_severity: self.filter.min_severity(),
            heartbeat_ms: u64::try_from(self.state.heartbeat.as_millis()).unwrap_or(u64::MAX),
            alerts: snapshot.alerts,
            truncated: snapshot.truncated,
        });
        self.sub.outlet().resume(text_frame(message.to_json()), seq);
        self.flush().await
    }

    async fn send(&mut self, message: ServerMessage) -> Result<(), End> {
        self.sub.outlet().send(text_frame(message.to_json()));
        self.flush().await
    }

    async fn on_message(&mut self, message: Message) -> Result<(), End> {
        // Any frame is a sign of life.
        self.last_heard = Instant::now();
        self.screen.seen();
        match message {
            Message::Pong(_) => {
                self.measure_rtt();
                Ok(())
            }
            // Pings are answered by tungstenite; Close is handled by the
            // caller; raw frames are not returned when reading.
            Message::Ping(_) | Message::Close(_) | Message::Frame(_) => Ok(()),
            _ if !self.rate.allow() => self.refuse_flood().await,
            Message::Text(text) => match ClientMessage::from_json(text.as_str()) {
                Ok(ClientMessage::Subscribe {
                    sites,
                    min_severity,
                }) => self.subscribe(sites, min_severity).await,
                Ok(ClientMessage::Pong { .. }) => {
                    self.measure_rtt();
                    Ok(())
                }
                Err(e) => self.send_error(e.0).await,
            },
            Message::Binary(_) => {
                let message = "binary frames are not part of the protocol; send JSON text frames";
                self.send_error(message.into()).await
            }
        }
    }

    /// Replaces the filter and answers with its snapshot; a filter over the
    /// site limit is refused and the old one stays.
    async fn subscribe(
        &mut self,
        sites: Vec<String>,
        min_severity: Option<Severity>,
    ) -> Result<(), End> {
        let min = min_severity.unwrap_or(self.filter.min_severity());
        let filter = self.state.filter(Some(sites), min);
        if let Err(message) = check_site_count(&self.state, &filter) {
            return self.send_error(message).await;
        }
        self.sub.outlet().pause();
        self.filter = filter;
        self.sub.set_filter(self.filter.clone());
        self.screen
            .set_sites(self.filter.sites().map(<[String]>::to_vec));
        self.send_snapshot(SnapshotReason::Subscribe).await
    }

    /// Says once that messages are being refused; closes a screen that
    /// keeps flooding.
    async fn refuse_flood(&mut self) -> Result<(), End> {
        match self.rate.refused {
            1 => {
                let rate = self.state.limits.max_client_rate;
                self.send_error(format!(
                    "too many messages: at most {rate} per second; this one was ignored"
                ))
                .await
            }
            n if n >= FLOOD => Err(End::Close(POLICY, "message rate limit exceeded")),
            _ => Ok(()),
        }
    }

    fn measure_rtt(&self) {
        if let Some(sent) = self.heartbeat_sent {
            self.screen.set_rtt(sent.elapsed());
        }
    }

    async fn send_error(&mut self, message: String) -> Result<(), End> {
        self.send(ServerMessage::Error { message }).await
    }

    /// Closes a silent screen, or sends the heartbeat and a Ping.
    async fn heartbeat(&mut self, ws: &mut Ws) -> Result<(), End> {
        if self.last_heard.elapsed() >= self.dead_after() {
            tracing::info!("closing a screen silent for three heartbeat intervals");
            return Err(End::Close(
                NORMAL,
                "no sign of life for three heartbeat intervals",
            ));
        }
        let ts = chrono::Utc::now().timestamp();
        self.sub
            .outlet()
            .send(text_frame(ServerMessage::Heartbeat { ts }.to_json()));
        // Into the outlet too, right behind the heartbeat.
        ws.send(Message::Ping(ts.to_be_bytes().to_vec().into()))
            .await?;
        self.flush().await?;
        self.heartbeat_sent = Some(Instant::now());
        Ok(())
    }
}

/// A read error: an over-long message or frame closes with 1009, others end
/// the connection.
fn read_error(e: &WsError) -> End {
    match e {
        WsError::Capacity(_) => End::Close(TOO_BIG, "message too big"),
        _ => End::Broken,
    }
}
