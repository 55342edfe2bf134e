//! One screen's connection as a state machine. It sends the snapshot, then
//! `select!`s over its outlet (the hub left bytes, or the screen lagged),
//! the socket (subscribe, pongs), its profile's notices, the heartbeat
//! tick and the shutdown token, until the screen or the server ends it.
//!
//! How it ends, in close codes (RFC 6455): 1000 for a screen silent for
//! three heartbeat intervals, 1001 on shutdown, 1008 for a screen that
//! floods or that does not read (no write went through for three
//! intervals), 1009 for a message too big, 1011 when the store cannot give
//! a snapshot. Every close frame goes out if the socket takes it within
//! [`CLOSE_GRACE`].

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use noc_shared::{
    ClientMessage, Profile, ServerMessage, Severity, SiteFilter, Snapshot, SnapshotReason,
};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, interval_at, timeout};
use tungstenite::protocol::CloseFrame;
use tungstenite::{Error as WsError, Message};

use super::heartbeat::{Unanswered, ping_seconds};
use super::io::{Broken, Sink, Ws};
use super::profile::{effective, next_notice};
use super::rate::{RateLimit, Verdict};
use super::registry::ScreenHandle;
use super::{ScreenContext, check_site_count};
use crate::event::text_frame;
use crate::hub::Subscription;
use crate::profiles::Notice;
use crate::store::SNAPSHOT_LIMIT;

/// Close codes (RFC 6455).
const NORMAL: u16 = 1000;
const GOING_AWAY: u16 = 1001;
const POLICY: u16 = 1008;
const TOO_BIG: u16 = 1009;
const INTERNAL: u16 = 1011;

/// How long a closing screen has to take its close frame and answer it.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Why a connection ended, when it was not the screen's own choice.
enum End {
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// No write went through for three heartbeat intervals: the screen does
    /// not read. Closed with 1008, after dropping what waits for it.
    Stalled,
    /// The socket failed; nothing more can be sent.
    Broken,
}

const SHUTTING_DOWN: End = End::Close(GOING_AWAY, "server shutting down");
const STALLED_REASON: &str = "not reading: no write went through for three heartbeat intervals";

impl From<WsError> for End {
    fn from(_: WsError) -> Self {
        End::Broken
    }
}

impl From<Broken> for End {
    fn from(_: Broken) -> Self {
        End::Broken
    }
}

/// Who a screen is and what it shows: its own filter, its profile, and
/// the two combined.
pub struct View {
    /// The `client` name; a screen without one has no profile.
    pub name: Option<Box<str>>,
    /// The screen's own filter (query, `subscribe`).
    pub own: SiteFilter,
    /// The filter in force: `own` with the profile's sites and severity.
    pub filter: SiteFilter,
    pub profile: Option<Profile>,
    /// Profile notices, for a screen with a name.
    pub notices: Option<Receiver<Notice>>,
}

pub struct Connection {
    ctx: Arc<ScreenContext>,
    screen: ScreenHandle,
    sub: Subscription,
    sink: Sink,
    view: View,
    last_heard: Instant,
    unanswered: Unanswered,
    rate: RateLimit,
}

impl Connection {
    pub fn new(
        ctx: Arc<ScreenContext>,
        screen: ScreenHandle,
        sub: Subscription,
        view: View,
        sink: Sink,
    ) -> Self {
        let rate = RateLimit::new(ctx.limits.max_client_rate, Instant::now());
        Connection {
            ctx,
            screen,
            sub,
            sink,
            view,
            last_heard: Instant::now(),
            unanswered: Unanswered::default(),
            rate,
        }
    }

    /// Three silent heartbeat intervals and a screen is gone; a write that
    /// cannot finish within as long means the same.
    fn dead_after(&self) -> Duration {
        self.ctx.heartbeat * 3
    }

    /// Serves the screen, then closes the connection.
    pub async fn run(&mut self, ws: &mut Ws) {
        let end = self.serve(ws).await;
        // A closing screen is no longer listed, nor offered events.
        self.screen.leave();
        let outlet = self.sub.outlet();
        let close = match end {
            Ok(()) | Err(End::Broken) => {
                outlet.close();
                None
            }
            Err(End::Close(code, reason)) => {
                outlet.close();
                Some((code, reason))
            }
            Err(End::Stalled) => {
                tracing::info!("closing a screen that does not read");
                outlet.abandon();
                Some((POLICY, STALLED_REASON))
            }
        };
        if let Some((code, reason)) = close {
            let frame = CloseFrame {
                code: code.into(),
                reason: reason.into(),
            };
            let _ = ws.send(Message::Close(Some(frame))).await;
        }
        // Lets tungstenite queue what it still owes, such as its answer to
        // the screen's own close frame.
        let _ = ws.flush().await;
        if !matches!(end, Err(End::Broken)) {
            let _ = timeout(CLOSE_GRACE, self.finish(ws)).await;
        }
    }

    /// The end of a closing connection: writes what is still queued (the
    /// close frame last), then reads until the screen answers the close or
    /// goes. A socket torn down while the screen still sends is reset, and
    /// a reset throws away what was written but not yet delivered.
    async fn finish(&mut self, ws: &mut Ws) {
        if self.sink.write_out(self.sub.outlet()).await.is_err() {
            return;
        }
        while let Some(Ok(_)) = ws.next().await {}
    }

    async fn serve(&mut self, ws: &mut Ws) -> Result<(), End> {
        // The handlers below are boxed: a task is as large as its largest
        // state, and 10,000 idle screens should not each carry room for a
        // snapshot or a heartbeat in progress (3.2 KB → 2.1 KB a task).
        Box::pin(self.send_snapshot(SnapshotReason::Connect)).await?;
        let period = self.ctx.heartbeat;
        let mut tick = interval_at(Instant::now() + period, period);
        let shutdown = self.ctx.shutdown.clone();
        // Made once: a new `cancelled()` each turn would register and
        // unregister with the token on every wake-up.
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        let outlet = self.sub.outlet().clone();
        loop {
            tokio::select! {
                biased;
                () = &mut cancelled => return Err(SHUTTING_DOWN),
                () = outlet.woken() => Box::pin(self.on_wake()).await?,
                message = ws.next() => match message {
                    None | Some(Ok(Message::Close(_))) => return Ok(()),
                    Some(Err(e)) => return Err(read_error(&e)),
                    Some(Ok(message)) => Box::pin(self.on_message(message)).await?,
                },
                notice = next_notice(&mut self.view.notices) => {
                    Box::pin(self.on_notice(notice)).await?;
                }
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

    /// Writes everything the outlet holds. A write that cannot finish
    /// within [`Connection::dead_after`] means the screen does not read;
    /// nor does shutdown wait for it.
    async fn flush(&mut self) -> Result<(), End> {
        let dead_after = self.dead_after();
        tokio::select! {
            biased;
            written = self.sink.write_out(self.sub.outlet()) => Ok(written?),
            () = self.ctx.shutdown.cancelled() => Err(SHUTTING_DOWN),
            () = tokio::time::sleep(dead_after) => Err(End::Stalled),
        }
    }

    /// Reads a snapshot for the current filter and queues it, then the
    /// events it does not hold. The outlet is paused already (new, lagged
    /// or resubscribed), so no event slips in before it.
    async fn send_snapshot(&mut self, reason: SnapshotReason) -> Result<(), End> {
        let filter = &self.view.filter;
        let snapshot = match self.ctx.store.snapshot(filter, SNAPSHOT_LIMIT).await {
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
            sites: self.view.filter.sites().map(<[String]>::to_vec),
            min_severity: self.view.filter.min_severity(),
            heartbeat_ms: u64::try_from(self.ctx.heartbeat.as_millis()).unwrap_or(u64::MAX),
            alerts: snapshot.alerts,
            truncated: snapshot.truncated,
            profile: self.view.profile.clone(),
        });
        self.sub.outlet().resume(text_frame(message.to_json()), seq);
        self.flush().await
    }

    async fn send(&mut self, message: ServerMessage) -> Result<(), End> {
        self.sub.outlet().send(text_frame(message.to_json()));
        self.flush().await
    }

    async fn send_error(&mut self, message: String) -> Result<(), End> {
        self.send(ServerMessage::Error { message }).await
    }

    async fn on_message(&mut self, message: Message) -> Result<(), End> {
        // Any frame is a sign of life.
        let now = Instant::now();
        self.last_heard = now;
        self.screen.seen();
        match message {
            Message::Pong(payload) => {
                self.answered(ping_seconds(&payload));
                Ok(())
            }
            // Pings are answered by tungstenite; Close is handled by the
            // caller; raw frames are not returned when reading.
            Message::Ping(_) | Message::Close(_) | Message::Frame(_) => Ok(()),
            Message::Text(_) | Message::Binary(_) => match self.rate.judge(now) {
                Verdict::Allowed => self.on_data(message).await,
                Verdict::RefusedFirst => {
                    let rate = self.ctx.limits.max_client_rate;
                    self.send_error(format!(
                        "too many messages: at most {rate} per second; this one was ignored"
                    ))
                    .await
                }
                Verdict::Refused => Ok(()),
                Verdict::Flooding => Err(End::Close(POLICY, "message rate limit exceeded")),
            },
        }
    }

    /// A text or binary message the rate let through.
    async fn on_data(&mut self, message: Message) -> Result<(), End> {
        let Message::Text(text) = message else {
            let message = "binary frames are not part of the protocol; send JSON text frames";
            return self.send_error(message.into()).await;
        };
        match ClientMessage::from_json(text.as_str()) {
            Ok(ClientMessage::Subscribe {
                sites,
                min_severity,
            }) => self.subscribe(sites, min_severity).await,
            Ok(ClientMessage::Pong { ts }) => {
                self.answered(ts);
                Ok(())
            }
            Err(e) => self.send_error(e.0).await,
        }
    }

    /// An answer to the heartbeat of `ts` (a pong or a Pong frame): its
    /// round trip is the screen's `rtt_ms`. One that answers no heartbeat
    /// waiting for it measures nothing.
    fn answered(&mut self, ts: Option<i64>) {
        if let Some(rtt) = ts.and_then(|ts| self.unanswered.answered(ts, Instant::now())) {
            self.screen.set_rtt(rtt);
        }
    }

    /// Replaces the screen's own filter and answers with its snapshot (the
    /// profile's sites and severity, if any, still win); a filter over the
    /// site limit is refused and the old one stays.
    async fn subscribe(
        &mut self,
        sites: Vec<String>,
        min_severity: Option<Severity>,
    ) -> Result<(), End> {
        let min = min_severity.unwrap_or(self.view.own.min_severity());
        let own = self.ctx.groups.get().filter(Some(sites), min);
        if let Err(message) = check_site_count(&self.ctx.limits, &own) {
            return self.send_error(message).await;
        }
        self.view.own = own;
        self.refilter();
        self.send_snapshot(SnapshotReason::Subscribe).await
    }

    /// Puts the filter of the screen's own and its profile in force. The
    /// outlet is paused until the snapshot that must follow.
    fn refilter(&mut self) {
        self.sub.outlet().pause();
        let groups = self.ctx.groups.get();
        self.view.filter = effective(&groups, &self.view.own, self.view.profile.as_ref());
        self.sub.set_filter(self.view.filter.clone());
        self.screen
            .set_sites(self.view.filter.sites().map(<[String]>::to_vec));
    }

    /// A profile notice: this screen's profile changed, or it is to
    /// identify itself. Notices for other names pass by.
    async fn on_notice(&mut self, notice: Result<Notice, RecvError>) -> Result<(), End> {
        let Some(me) = self.view.name.as_deref() else {
            return Ok(());
        };
        match notice {
            Ok(Notice::Identify { name }) if *name == *me => {
                self.send(ServerMessage::Identify).await
            }
            Ok(Notice::Profile { name, profile }) if *name == *me => {
                self.follow_profile(profile).await
            }
            Ok(_) => Ok(()),
            // Notices were missed: the set holds the latest profile.
            Err(RecvError::Lagged(_)) => {
                let profile = self.ctx.profiles.get(me);
                if profile == self.view.profile {
                    return Ok(());
                }
                self.follow_profile(profile).await
            }
            Err(RecvError::Closed) => {
                self.view.notices = None;
                Ok(())
            }
        }
    }

    /// Tells the screen its new profile (`None`: removed), then sends the
    /// snapshot of the filter that follows from it.
    async fn follow_profile(&mut self, profile: Option<Profile>) -> Result<(), End> {
        let message = ServerMessage::Profile {
            profile: profile.clone(),
        };
        self.sub.outlet().send(text_frame(message.to_json()));
        self.screen.set_profile(
            profile
                .as_ref()
                .and(self.view.name.as_deref().map(str::to_owned)),
        );
        self.view.profile = profile;
        self.refilter();
        self.send_snapshot(SnapshotReason::Profile).await
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
        // The clock starts before the heartbeat is written: a write that
        // waits for the socket is part of the round trip, not hidden from it.
        self.unanswered.sent(ts, Instant::now());
        self.sub
            .outlet()
            .send(text_frame(ServerMessage::Heartbeat { ts }.to_json()));
        // Into the outlet too, right behind the heartbeat.
        ws.send(Message::Ping(ts.to_be_bytes().to_vec().into()))
            .await?;
        self.flush().await
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
