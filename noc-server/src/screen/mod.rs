//! A wall screen's connection, once `routes/ws.rs` has admitted it (token,
//! origin, sites, a free slot) and answered its upgrade to a WebSocket.
//!
//! - [`serve`]: the screen's task, from the upgrade to the close.
//! - `connection`: the per-screen state machine: snapshot, then a
//!   `select!` over its outlet, the socket, the heartbeat tick and the
//!   shutdown token; how and why it ends (close codes).
//! - `io`: where a screen's frames are written: tungstenite's writes go
//!   into the outlet, and the outlet goes out to the shared socket or, over
//!   TLS, through the connection's own stream.
//! - `heartbeat`: which heartbeats wait for an answer, so that a pong sets
//!   `rtt_ms` only from the heartbeat it answers.
//! - `rate`: the token bucket over what a screen sends.
//! - `profile`: what a screen's profile does to its filter.
//! - [`registry`]: the connected screens as `/api/v1/screens` lists them.
//!
//! Event frames do not pass through a screen's task: the hub writes them to
//! the socket itself (see `outlet`), and wakes the task only when the
//! socket did not take them all or the screen lagged.

mod connection;
mod heartbeat;
mod io;
mod profile;
mod rate;
pub mod registry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use noc_shared::SiteFilter;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::OwnedSemaphorePermit;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;
use tungstenite::protocol::{Role, WebSocketConfig};

use crate::config::{Limits, Live};
use crate::hub::Hub;
use crate::profiles::Profiles;
use crate::sites::SiteGroups;
use crate::store::Store;

use self::connection::Connection;
use self::io::{OutletWriter, Sink};
pub use self::registry::{ScreenInfo, Screens};

/// The most tungstenite may hold unwritten: it writes each frame into the
/// outlet at once, so this only guards against a bug.
const MAX_WRITE_BUFFER: usize = 1024 * 1024;

/// What a screen's connection needs of the server, and nothing more. One
/// is shared (behind an `Arc`) by every screen.
pub struct ScreenContext {
    /// Where snapshots are read.
    pub store: Arc<dyn Store>,
    /// Where the screen subscribes to events.
    pub hub: Arc<Hub>,
    /// The list `/api/v1/screens` shows; each screen keeps its entry.
    pub screens: Screens,
    /// Site groups, expanded in a `subscribe` and a profile's sites.
    pub groups: Arc<Live<SiteGroups>>,
    /// Profiles by screen name, and the notices of their changes.
    pub profiles: Arc<Profiles>,
    /// The heartbeat interval; three of them without a sign of life, or
    /// without a write going through, end a screen.
    pub heartbeat: Duration,
    pub limits: Limits,
    /// Cancelled on SIGTERM or Ctrl-C: every screen closes with 1001.
    pub shutdown: CancellationToken,
}

/// An admitted screen: who it is and what it asked for.
pub struct Admitted {
    /// From the `client` parameter, if given.
    pub name: Option<String>,
    pub addr: SocketAddr,
    /// The screen's own filter, from its query; its profile may replace it.
    pub filter: SiteFilter,
    /// The shared write half of a plain TCP connection (`None` over TLS).
    pub socket: Option<Arc<OwnedWriteHalf>>,
}

/// Serves one admitted screen, once its connection is upgraded, until it
/// closes. `slot` (its place under `--max-screens`) is held until then.
///
/// This is the whole of a screen's task: what it is given is stored once
/// in the task, and what it calls borrows, so that 10,000 idle screens do
/// not each carry copies.
pub async fn serve(
    ctx: Arc<ScreenContext>,
    on_upgrade: OnUpgrade,
    screen: Admitted,
    slot: OwnedSemaphorePermit,
) {
    let upgraded = match on_upgrade.await {
        Ok(upgraded) => upgraded,
        Err(e) => {
            tracing::debug!(addr = %screen.addr, error = %e, "WebSocket upgrade failed");
            return;
        }
    };
    // Watching before the profile is read, so no change falls between.
    let notices = screen.name.as_ref().map(|_| ctx.profiles.watch());
    let profile = screen.name.as_deref().and_then(|n| ctx.profiles.get(n));
    let filter = profile::effective(&ctx.groups.get(), &screen.filter, profile.as_ref());
    let handle = ctx.screens.connect(
        screen.name.clone(),
        screen.addr,
        filter.sites().map(<[String]>::to_vec),
        profile.as_ref().and(screen.name.clone()),
    );
    // Subscribed before the snapshot is read, so nothing falls between.
    let sub = ctx.hub.subscribe(filter.clone(), screen.socket.clone());
    let (read, write) = tokio::io::split(TokioIo::new(upgraded));
    let sink = match screen.socket {
        Some(socket) => Sink::Shared(socket),
        None => Sink::Stream(write),
    };
    // tungstenite reads the connection and writes into the outlet.
    let io = tokio::io::join(read, OutletWriter(sub.outlet().clone()));
    let config = ws_config(&ctx.limits);
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    let view = connection::View {
        name: screen.name.map(String::into_boxed_str),
        own: screen.filter,
        filter,
        profile,
        notices,
    };
    let mut conn = Connection::new(ctx, handle, sub, view, sink);
    conn.run(&mut ws).await;
    drop(slot);
}

fn ws_config(limits: &Limits) -> WebSocketConfig {
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

/// A subscription may name at most `--max-subscription-sites` sites; the
/// error says so, for the connection's refusal or an error event.
pub fn check_site_count(limits: &Limits, filter: &SiteFilter) -> Result<(), String> {
    let count = filter.sites().map_or(0, <[String]>::len);
    let max = limits.max_subscription_sites;
    if count > max {
        return Err(format!(
            "the subscription names {count} sites; at most {max} are allowed"
        ));
    }
    Ok(())
}
