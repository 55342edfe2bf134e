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
use axum::response::Response;
use futures_util::SinkExt;
use noc_shared::{
    ClientMessage, ServerMessage, Severity, SiteFilter, Snapshot, SnapshotReason, parse_site_list,
};
use tokio::time::{Instant, interval_at, timeout};

use crate::AppState;
use crate::auth::bearer;
use crate::error::ApiError;
use crate::hub::{Frame, Subscription};
use crate::screens::ScreenHandle;
use crate::store::SNAPSHOT_LIMIT;

/// The largest message or frame a screen may send; more closes with 1009.
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Queued frames written with one flush, at most.
const WRITE_BATCH: usize = 64;

/// Close codes (RFC 6455).
const GOING_AWAY: u16 = 1001;
const TOO_BIG: u16 = 1009;
const INTERNAL: u16 = 1011;
const NORMAL: u16 = 1000;

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
    let upgrade = upgrade.map_err(|e| {
        ApiError::BadRequest(format!("{e}: /ws/alerts takes a WebSocket connection"))
    })?;
    let min_severity = match params
        .get("min_severity")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => Severity::Info,
        Some(s) => s
            .parse()
            .map_err(|e| ApiError::Unprocessable(format!("min_severity: {e}")))?,
    };
    let filter = state.filter(
        params.get("sites").and_then(|s| parse_site_list(s)),
        min_severity,
    );
    let name = params
        .get("client")
        .map(|s| s.trim().chars().take(100).collect::<String>())
        .filter(|s| !s.is_empty());
    let tasks = state.tasks.clone();
    Ok(upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| {
            tasks.track_future(async move {
                let screen =
                    state
                        .screens
                        .connect(name, addr, filter.sites().map(<[String]>::to_vec));
                let sub = state.hub.subscribe(filter.clone());
                let mut conn = Connection::new(state, screen, sub, filter);
                conn.run(socket).await;
            })
        }))
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
}

impl Connection {
    fn new(state: AppState, screen: ScreenHandle, sub: Subscription, filter: SiteFilter) -> Self {
        Connection {
            state,
            screen,
            sub,
            filter,
            last_seq: 0,
            last_heard: Instant::now(),
            heartbeat_sent: None,
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
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return Err(End::Close(GOING_AWAY, "server shutting down")),
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
        let mut sent = 0;
        let mut next = Some(first);
        let dead_after = self.dead_after();
        while let Some(frame) = next.take() {
            if frame.seq > self.last_seq && frame.wanted_by(&self.filter) {
                self.last_seq = frame.seq;
                timeout(dead_after, socket.feed(Message::Text(frame.text.clone())))
                    .await
                    .map_err(|_| End::Broken)??;
                sent += 1;
            }
            if sent < WRITE_BATCH {
                next = self.sub.try_recv();
            }
        }
        timeout(dead_after, socket.flush())
            .await
            .map_err(|_| End::Broken)??;
        self.state.metrics.deliveries.inc_by(sent as u64);
        Ok(())
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
            Message::Text(text) => match ClientMessage::from_json(text.as_str()) {
                Ok(ClientMessage::Subscribe {
                    sites,
                    min_severity,
                }) => {
                    let min = min_severity.unwrap_or(self.filter.min_severity());
                    self.filter = self.state.filter(Some(sites), min);
                    self.sub.set_filter(self.filter.clone());
                    self.screen
                        .set_sites(self.filter.sites().map(<[String]>::to_vec));
                    self.send_snapshot(socket, SnapshotReason::Subscribe).await
                }
                Ok(ClientMessage::Pong { .. }) => {
                    if let Some(sent) = self.heartbeat_sent {
                        self.screen.set_rtt(sent.elapsed());
                    }
                    Ok(())
                }
                Err(e) => {
                    self.send(socket, ServerMessage::Error { message: e.0 })
                        .await
                }
            },
            Message::Binary(_) => {
                let message =
                    "binary frames are not part of the protocol; send JSON text frames".into();
                self.send(socket, ServerMessage::Error { message }).await
            }
            Message::Pong(_) => {
                if let Some(sent) = self.heartbeat_sent {
                    self.screen.set_rtt(sent.elapsed());
                }
                Ok(())
            }
            // Pings are answered by the WebSocket layer; Close is handled by the caller.
            Message::Ping(_) | Message::Close(_) => Ok(()),
        }
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
