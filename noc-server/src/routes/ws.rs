//! `GET /ws/alerts`: one task per screen. It subscribes to the hub before it
//! reads its snapshot, then `select!`s over the hub, the socket, the
//! heartbeat tick and the shutdown token.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{
    CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::Response;
use futures_util::SinkExt;
use noc_shared::{
    ClientMessage, ServerMessage, Severity, SiteFilter, Snapshot, SnapshotReason, parse_site_list,
};
use tokio::time::{Instant, interval_at, timeout};

use crate::auth::bearer;
use crate::error::ApiError;
use crate::hub::{Frame, Subscription};
use crate::ingest::min_severity_param;
use crate::screens::ScreenHandle;
use crate::store::SNAPSHOT_LIMIT;
use crate::{AppState, normalize_origin};

/// Queued frames written with one flush, at most.
const WRITE_BATCH: u64 = 64;

/// The most one connection's WebSocket write buffer may hold: above the
/// largest snapshot (1000 alerts, each at most about 30 KB of JSON when
/// every character of a 4096-character message must be escaped).
const MAX_WRITE_BUFFER: usize = 32 * 1024 * 1024;

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
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let token = params
        .get("token")
        .map(String::as_str)
        .or_else(|| bearer(&headers));
    if !state.auth.may_view(token) {
        return Err(ApiError::Unauthorized);
    }
    check_origin(&state, &headers)?;
    let upgrade = upgrade.map_err(|e| {
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
        tracing::warn!(%addr, limit = state.limits.max_screens, "screen refused: --max-screens reached");
        ApiError::Busy(format!(
            "too many screens connected (the limit is {}); try again later or raise --max-screens",
            state.limits.max_screens
        ))
    })?;
    let tasks = state.tasks.clone();
    let limits = &state.limits;
    Ok(upgrade
        // Screens send little (a pong per heartbeat): a small read buffer
        // keeps idle screens cheap, and it is what every wake-up zeroes.
        .read_buffer_size(512)
        .write_buffer_size(16 * 1024)
        // A connection writes one snapshot or one batch of frames at a
        // time, and its event queue is what bounds a slow screen; this cap
        // only guards against a bug, above the largest snapshot there can be.
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(limits.max_ws_message)
        .max_frame_size(limits.max_ws_frame.min(limits.max_ws_message))
        .on_upgrade(move |socket| {
            tasks.track_future(async move {
                let screen =
                    state
                        .screens
                        .connect(name, addr, filter.sites().map(<[String]>::to_vec));
                let sub = state.hub.subscribe(filter.clone());
                let mut conn = Connection::new(state, screen, sub, filter);
                conn.run(socket).await;
                drop(slot);
            })
        }))
}

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

impl From<axum::Error> for End {
    fn from(_: axum::Error) -> Self {
        End::Broken
    }
}

struct Connection {
    state: AppState,
    screen: ScreenHandle,
    sub: Subscription,
    filter: SiteFilter,
    /// The last event this screen has (in a snapshot or sent live).
    last_seq: u64,
    last_heard: Instant,
    heartbeat_sent: Option<Instant>,
    rate: RateLimit,
}

impl Connection {
    fn new(state: AppState, screen: ScreenHandle, sub: Subscription, filter: SiteFilter) -> Self {
        let rate = RateLimit::new(state.limits.max_client_rate);
        Connection {
            state,
            screen,
            sub,
            filter,
            last_seq: 0,
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

    async fn run(&mut self, mut socket: WebSocket) {
        let end = self.serve(&mut socket).await;
        if let Err(End::Close(code, reason)) = end {
            let close = Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }));
            let _ = timeout(Duration::from_secs(1), socket.send(close)).await;
        }
    }

    async fn serve(&mut self, socket: &mut WebSocket) -> Result<(), End> {
        self.send_snapshot(socket, SnapshotReason::Connect).await?;
        let period = self.state.heartbeat;
        let mut tick = interval_at(Instant::now() + period, period);
        let shutdown = self.state.shutdown.clone();
        // Made once: a new `cancelled()` each turn would register and
        // unregister with the token on every event.
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        loop {
            tokio::select! {
                biased;
                () = &mut cancelled => return Err(End::Close(GOING_AWAY, "server shutting down")),
                frame = self.sub.recv() => match frame {
                    Some(frame) => self.forward(socket, frame).await?,
                    None => return Err(End::Close(GOING_AWAY, "server shutting down")),
                },
                message = socket.recv() => match message {
                    None | Some(Ok(Message::Close(_))) => return Ok(()),
                    Some(Err(e)) => return Err(read_error(&e)),
                    Some(Ok(message)) => self.on_message(socket, message).await?,
                },
                _ = tick.tick() => self.heartbeat(socket).await?,
            }
        }
    }

    /// Writes `first` and whatever else is queued with one flush, or a
    /// lagged snapshot when the queue overflowed.
    async fn forward(
        &mut self,
        socket: &mut WebSocket,
        first: std::sync::Arc<Frame>,
    ) -> Result<(), End> {
        if self.sub.take_lagged() {
            self.sub.discard_queue();
            self.screen.lagged();
            return self.send_snapshot(socket, SnapshotReason::Lagged).await;
        }
        // One timer for the whole batch, not one per frame: this is the hot path.
        let sent = timeout(self.dead_after(), self.write_batch(socket, first))
            .await
            .map_err(|_| End::Broken)??;
        self.state.metrics.deliveries.inc_by(sent);
        Ok(())
    }

    /// Feeds `first` and up to [`WRITE_BATCH`] queued frames that this
    /// screen wants, then flushes them with one write; returns how many.
    async fn write_batch(
        &mut self,
        socket: &mut WebSocket,
        first: std::sync::Arc<Frame>,
    ) -> Result<u64, End> {
        let mut sent = 0;
        let mut next = Some(first);
        while let Some(frame) = next.take() {
            if frame.seq > self.last_seq && frame.wanted_by(&self.filter) {
                self.last_seq = frame.seq;
                socket.feed(Message::Text(frame.text.clone())).await?;
                sent += 1;
            }
            if sent < WRITE_BATCH {
                next = self.sub.try_recv();
            }
        }
        socket.flush().await?;
        Ok(sent)
    }

    async fn send_snapshot(
        &mut self,
        socket: &mut WebSocket,
        reason: SnapshotReason,
    ) -> Result<(), End> {
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
                let _ = socket.send(Message::Text(message.to_json().into())).await;
                return Err(End::Close(INTERNAL, "alert store unavailable"));
            }
        };
        self.last_seq = snapshot.seq;
        let message = ServerMessage::Snapshot(Snapshot {
            reason,
            seq: snapshot.seq,
            sites: self.filter.sites().map(<[String]>::to_vec),
            min_severity: self.filter.min_severity(),
            heartbeat_ms: u64::try_from(self.state.heartbeat.as_millis()).unwrap_or(u64::MAX),
            alerts: snapshot.alerts,
            truncated: snapshot.truncated,
        });
        self.send(socket, message).await
    }

    async fn send(&self, socket: &mut WebSocket, message: ServerMessage) -> Result<(), End> {
        timeout(
            self.dead_after(),
            socket.send(Message::Text(message.to_json().into())),
        )
        .await
        .map_err(|_| End::Broken)??;
        Ok(())
    }

    async fn on_message(&mut self, socket: &mut WebSocket, message: Message) -> Result<(), End> {
        // Any frame is a sign of life.
        self.last_heard = Instant::now();
        self.screen.seen();
        match message {
            Message::Pong(_) => {
                self.measure_rtt();
                Ok(())
            }
            // Pings are answered by the WebSocket layer; Close is handled by the caller.
            Message::Ping(_) | Message::Close(_) => Ok(()),
            _ if !self.rate.allow() => self.refuse_flood(socket).await,
            Message::Text(text) => match ClientMessage::from_json(text.as_str()) {
                Ok(ClientMessage::Subscribe {
                    sites,
                    min_severity,
                }) => self.subscribe(socket, sites, min_severity).await,
                Ok(ClientMessage::Pong { .. }) => {
                    self.measure_rtt();
                    Ok(())
                }
                Err(e) => self.send_error(socket, e.0).await,
            },
            Message::Binary(_) => {
                let message = "binary frames are not part of the protocol; send JSON text frames";
                self.send_error(socket, message.into()).await
            }
        }
    }

    /// Replaces the filter and answers with its snapshot; a filter over the
    /// site limit is refused and the old one stays.
    async fn subscribe(
        &mut self,
        socket: &mut WebSocket,
        sites: Vec<String>,
        min_severity: Option<Severity>,
    ) -> Result<(), End> {
        let min = min_severity.unwrap_or(self.filter.min_severity());
        let filter = self.state.filter(Some(sites), min);
        if let Err(message) = check_site_count(&self.state, &filter) {
            return self.send_error(socket, message).await;
        }
        self.filter = filter;
        self.sub.set_filter(self.filter.clone());
        self.screen
            .set_sites(self.filter.sites().map(<[String]>::to_vec));
        self.send_snapshot(socket, SnapshotReason::Subscribe).await
    }

    /// Says once that messages are being refused; closes a screen that
    /// keeps flooding.
    async fn refuse_flood(&mut self, socket: &mut WebSocket) -> Result<(), End> {
        match self.rate.refused {
            1 => {
                let rate = self.state.limits.max_client_rate;
                self.send_error(
                    socket,
                    format!("too many messages: at most {rate} per second; this one was ignored"),
                )
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

    async fn send_error(&self, socket: &mut WebSocket, message: String) -> Result<(), End> {
        self.send(socket, ServerMessage::Error { message }).await
    }

    /// Closes a silent screen, or sends the heartbeat and a Ping.
    async fn heartbeat(&mut self, socket: &mut WebSocket) -> Result<(), End> {
        if self.last_heard.elapsed() >= self.dead_after() {
            tracing::info!("closing a screen silent for three heartbeat intervals");
            return Err(End::Close(
                NORMAL,
                "no sign of life for three heartbeat intervals",
            ));
        }
        let ts = chrono::Utc::now().timestamp();
        let text = ServerMessage::Heartbeat { ts }.to_json();
        let dead_after = self.dead_after();
        timeout(dead_after, async {
            socket.feed(Message::Text(text.into())).await?;
            socket
                .feed(Message::Ping(ts.to_be_bytes().to_vec().into()))
                .await?;
            socket.flush().await
        })
        .await
        .map_err(|_| End::Broken)??;
        self.heartbeat_sent = Some(Instant::now());
        Ok(())
    }
}

/// A read error: an over-long message or frame closes with 1009, others end
/// the connection.
fn read_error(e: &axum::Error) -> End {
    let inner = std::error::Error::source(e).and_then(|s| s.downcast_ref::<tungstenite::Error>());
    match inner {
        Some(tungstenite::Error::Capacity(_)) => End::Close(TOO_BIG, "message too big"),
        _ => End::Broken,
    }
}
