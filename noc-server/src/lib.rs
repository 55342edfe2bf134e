//! The NOC alert server: monitoring systems post alerts, the server stores
//! them durably and pushes every change to the connected wall screens.
//!
//! # Layout
//!
//! - [`config`]: the command-line flags and their environment variables.
//! - [`routes`]: the HTTP surface ([`routes::app`]): webhook, REST API,
//!   WebSocket, health, metrics, the browser screen.
//! - [`ingest`]: what a sender posts, validated at the edge.
//! - [`sources`]: monitoring systems' own webhook bodies (Alertmanager,
//!   Grafana) mapped to alerts.
//! - [`store`]: durable storage behind the [`store::Store`] trait, and the
//!   life of an alert ([`store::apply`]).
//! - [`writer`]: the single writer task: group commit, then publish.
//! - [`hub`]: the fan-out: serialize and frame once, offer each event only
//!   to the screens that want it, resync the ones that fell behind.
//! - [`outlet`]: a screen's outgoing bytes: written straight to its socket
//!   from the hub's task when nothing waits, queued (in order) otherwise.
//! - [`socket`]: plain TCP connections whose write side the hub can share.
//! - [`screens`]: the connected screens as `/api/v1/screens` shows them.
//! - [`auth`], [`sites`]: tokens, users, site groups.
//! - [`tls`]: HTTPS and WSS without a proxy.
//! - [`metrics`], [`demo`].
//!
//! [`run`] is the one seam that `main` and the tests share.

pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod hub;
pub mod ingest;
pub mod metrics;
pub mod outlet;
pub mod routes;
pub mod screens;
pub mod sites;
pub mod socket;
pub mod sources;
pub mod store;
pub mod tls;
pub mod writer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use noc_shared::{Severity, SiteFilter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::config::{Cli, Limits, Secret};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::screens::Screens;
use crate::sites::SiteGroups;
use crate::socket::{Peer, SharedTcpListener};
use crate::store::Store;
use crate::writer::Writer;

/// Events each screen may have queued before it counts as lagged.
pub const SCREEN_QUEUE: usize = 1024;
/// The kernel send buffer of each connection. Linux's default lets a stuck
/// screen soak up megabytes (some 15,000 alerts) before the server notices;
/// capped, a stuck screen shows up in its queue within a few hundred events.
const SOCKET_SEND_BUFFER: usize = 64 * 1024;
/// How long shutdown waits for in-flight requests and screens.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What every handler and connection shares. Cloning is one reference
/// count: every request and every screen holds one, so it stays a pointer.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields behind [`AppState`].
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub writer: Writer,
    pub hub: Arc<Hub>,
    pub screens: Screens,
    pub auth: Arc<Auth>,
    pub groups: Arc<SiteGroups>,
    pub metrics: Metrics,
    pub heartbeat: Duration,
    pub max_body: usize,
    pub limits: Limits,
    /// Lower-cased origins allowed to open the WebSocket; empty allows all.
    pub allowed_origins: Arc<Vec<String>>,
    /// One permit per connected screen, up to `--max-screens`.
    pub screen_slots: Arc<Semaphore>,
    /// Cancelled on SIGTERM or Ctrl-C: every screen closes with 1001.
    pub shutdown: CancellationToken,
    /// The screens' tasks, which axum's graceful shutdown does not wait for.
    pub tasks: TaskTracker,
}

impl Shared {
    /// A filter over site or group names (groups expanded).
    pub fn filter(&self, entries: Option<Vec<String>>, min_severity: Severity) -> SiteFilter {
        SiteFilter::new(entries.map(|e| self.groups.expand(&e)), min_severity)
    }
}

/// An origin as browsers send it: scheme, host and port, lower-cased,
/// without a trailing slash.
pub fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_lowercase()
}

/// Serves on `listener` until `shutdown` is cancelled, then closes every
/// screen with 1001, finishes in-flight requests (within 5 s) and returns.
pub async fn run(
    listener: TcpListener,
    cli: Cli,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let ingest_token = cli.ingest_token.clone().unwrap_or_else(|| {
        let token = Secret::generate();
        // Printed, not logged: it is for the person starting the server.
        println!(
            "noc-server: generated ingest token {} (set --ingest-token to keep one)",
            token.expose()
        );
        token
    });
    let users = match &cli.users_file {
        Some(path) => Auth::load_users(path)?,
        None => Vec::new(),
    };
    let groups = match &cli.sites_file {
        Some(path) => SiteGroups::load(path)?,
        None => SiteGroups::default(),
    };
    let store = store::open(&cli.database)
        .await
        .with_context(|| format!("cannot open the alert store {:?}", cli.database))?;
    let metrics = Metrics::default();
    let hub = Hub::new(SCREEN_QUEUE, metrics.clone());
    // A shared store (PostgreSQL) delivers every instance's events through
    // its follower; otherwise the writer publishes what it commits.
    let follower = store.clone().follower();
    let local_hub = follower.is_none().then(|| hub.clone());
    let (writer, writer_task) = Writer::start(store.clone(), local_hub);
    let state = AppState(Arc::new(Shared {
        store,
        writer,
        hub,
        screens: Screens::new(metrics.clone()),
        auth: Arc::new(Auth::new(&ingest_token, cli.viewer_token.as_ref(), users)),
        groups: Arc::new(groups),
        metrics,
        heartbeat: cli.heartbeat_interval,
        max_body: cli.max_body,
        limits: cli.limits.clone(),
        allowed_origins: Arc::new(
            cli.allowed_origins
                .iter()
                .map(|o| normalize_origin(o))
                .collect(),
        ),
        screen_slots: Arc::new(Semaphore::new(cli.limits.max_screens)),
        shutdown: shutdown.clone(),
        tasks: TaskTracker::new(),
    }));
    if let Some(follow) = follower {
        state
            .tasks
            .spawn(follow(state.hub.clone(), shutdown.clone()));
    }
    if cli.demo {
        state.tasks.spawn(demo::run(state.clone()));
    }
    let tasks = state.tasks.clone();
    tracing::info!(addr = %listener.local_addr()?, database = %cli.database, "listening");
    let tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let app = routes::app(state);
    match tls {
        None => {
            serve(
                SharedTcpListener(listener.tap_io(tune_socket)),
                app,
                &shutdown,
            )
            .await?
        }
        Some(acceptor) => {
            serve(
                tls::TlsListener::new(listener, acceptor, tune_socket),
                app,
                &shutdown,
            )
            .await?
        }
    }
    tasks.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("some screens did not close within 5 s");
    }
    // Every handle to the writer is gone now: it drains its queue and ends.
    if tokio::time::timeout(SHUTDOWN_GRACE, writer_task)
        .await
        .is_err()
    {
        tracing::warn!("pending writes did not finish within 5 s");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serves `app` on `listener` until `shutdown`, then waits at most 5 s
/// for in-flight requests.
async fn serve<L>(
    listener: L,
    app: axum::Router,
    shutdown: &CancellationToken,
) -> anyhow::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    for<'a> Peer: axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .into_future();
    tokio::select! {
        result = server => result.context("the HTTP server failed")?,
        () = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!("in-flight requests did not finish within 5 s; stopping anyway");
        }
    }
    Ok(())
}

/// Per-connection socket options: no Nagle delay (an alert is one small
/// frame that must leave now) and a small send buffer (see
/// [`SOCKET_SEND_BUFFER`]).
fn tune_socket(tcp: &mut TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
    if let Err(e) = socket2::SockRef::from(&*tcp).set_send_buffer_size(SOCKET_SEND_BUFFER) {
        tracing::debug!(error = %e, "cannot cap the socket send buffer");
    }
}
