//! The server as a whole: [`run`] builds the parts from the flags (store,
//! hub, writer, screens, routes), serves until the shutdown token is
//! cancelled, then stops within one deadline.
//!
//! Shutdown has 5 s (`SHUTDOWN_GRACE`) in all, from the moment the token is
//! cancelled: in-flight requests, the screens' closing handshakes and the
//! writer's last commits all run at once within it, and whatever is not
//! done by then is left behind.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::clock::{Alarm, AlertTimes, Timer};
use crate::config::{Cli, Live, Secret, redact_url, scrub_password};
use crate::event::{Announce, Publish};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::profiles::{self, Profiles};
use crate::reload::{self, Reloader};
use crate::routes::{self, AppState, Shared, normalize_origin};
use crate::screen::{ScreenContext, Screens};
use crate::sites::SiteGroups;
use crate::socket::{Peer, SharedTcpListener};
use crate::sources::registry::Sources;
use crate::writeback::worker;
use crate::writer::Writer;
use crate::{clock, demo, liveness, retention, silencing, sources, store, tls};

/// Events each screen may have queued before it counts as lagged.
pub const SCREEN_QUEUE: usize = 1024;
/// The kernel send buffer of each connection. Linux's default lets a stuck
/// screen soak up megabytes (some 15,000 alerts) before the server notices;
/// capped, a stuck screen shows up in its queue within a few hundred events.
const SOCKET_SEND_BUFFER: usize = 64 * 1024;
/// How long shutdown may take in all (the contract's 5 s).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves on `listener` until `shutdown` is cancelled, then closes every
/// screen with 1001, finishes in-flight requests and pending writes, and
/// returns: within 5 s of the cancel, whatever is still running.
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
    let sources = Arc::new(Sources::new(match &cli.sources_file {
        Some(path) => sources::file::load(path).map_err(anyhow::Error::msg)?,
        None => Vec::new(),
    }));
    let groups = Arc::new(Live::new(match &cli.sites_file {
        Some(path) => SiteGroups::load(path)?,
        // The demo's sites come with their countries.
        None if cli.demo => demo::groups(),
        None => SiteGroups::default(),
    }));
    crate::change::flap::set_window(cli.flap_window);
    let store = store::open(&cli.database).await.map_err(|e| {
        // The driver's error may quote the URL: neither shows its password.
        anyhow::anyhow!(
            "cannot open the alert store {}: {}",
            redact_url(&cli.database),
            scrub_password(&e.to_string(), &cli.database)
        )
    })?;
    let metrics = Metrics::default();
    let hub = Hub::new(SCREEN_QUEUE, metrics.clone());
    // Events go to the hub through the clock's watch, which wakes the
    // clock for a new expiry or ack lapse.
    let alarm = Alarm::default();
    let publish: Arc<dyn Publish> = Arc::new(clock::Watch {
        hub: hub.clone(),
        alarm: alarm.clone(),
    });
    // A shared store (PostgreSQL) delivers every instance's events through
    // its follower; otherwise the writer publishes what it commits.
    let follower = store.clone().follower();
    let local = follower.is_none().then(|| publish.clone());
    let (writer, writer_task) = Writer::start(store.clone(), local, metrics.clone());
    let profiles = start_profiles(&cli, &store).await?;
    let tasks = TaskTracker::new();
    if let Some(follow) = follower {
        tasks.spawn(follow(publish, shutdown.clone()));
    }
    tasks.spawn(retention::run(
        store.clone(),
        cli.keep_resolved,
        shutdown.clone(),
    ));
    if let Some(follow) = store.clone().news_follower() {
        tasks.spawn(follow(
            profiles.clone() as Arc<dyn Announce>,
            shutdown.clone(),
        ));
    }
    let timers: Vec<Arc<dyn Timer>> = vec![Arc::new(AlertTimes(store.clone()))];
    tasks.spawn(clock::run(timers, writer.clone(), alarm, shutdown.clone()));
    if cli.demo {
        tasks.spawn(demo::run(writer.clone(), shutdown.clone()));
    }
    liveness::recall(&sources, &*store)
        .await
        .context("cannot read when the sources were last heard")?;
    tasks.spawn(liveness::run(
        sources.clone(),
        store.clone(),
        writer.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(silencing::run(
        store.clone(),
        writer.clone(),
        shutdown.clone(),
    ));
    store
        .set_writeback_sources(&worker::written_back(&sources))
        .await
        .context("cannot store the written-back sources")?;
    tasks.spawn(worker::run(
        store.clone(),
        writer.clone(),
        worker::targets(sources.clone()),
        metrics.clone(),
        shutdown.clone(),
    ));
    let screen = Arc::new(ScreenContext {
        store: store.clone(),
        hub,
        screens: Screens::new(metrics.clone()),
        groups: groups.clone(),
        profiles: profiles.clone(),
        heartbeat: cli.heartbeat_interval,
        limits: cli.limits.clone(),
        shutdown: shutdown.clone(),
    });
    let auth = Arc::new(Live::new(Auth::new(
        &ingest_token,
        cli.viewer_token.as_ref(),
        users,
    )));
    tasks.spawn(
        reloader(&cli, &auth, &groups, &profiles, &sources, &store).on_sighup(shutdown.clone()),
    );
    let state = AppState::new(Shared {
        store,
        writer,
        screen,
        auth,
        sources,
        groups,
        metrics,
        max_body: cli.max_body,
        grafana_test_ttl: cli.grafana_test_ttl,
        allowed_origins: Arc::new(
            cli.allowed_origins
                .iter()
                .map(|o| normalize_origin(o))
                .collect(),
        ),
        screen_slots: Arc::new(Semaphore::new(cli.limits.max_screens)),
        tasks: tasks.clone(),
    });
    tracing::info!(addr = %listener.local_addr()?, database = %redact_url(&cli.database), "listening");
    let tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let app = routes::app(state);
    let deadline = match tls {
        None => {
            let listener = SharedTcpListener(listener.tap_io(tune_socket));
            serve(listener, app, &shutdown).await?
        }
        Some(acceptor) => {
            let listener = tls::TlsListener::new(listener, acceptor, tune_socket);
            serve(listener, app, &shutdown).await?
        }
    };
    // The screens and the writer had the same deadline as the requests,
    // and have been closing since the cancel.
    tasks.close();
    if timeout_at(deadline, tasks.wait()).await.is_err() {
        tracing::warn!("some screens had not closed when the shutdown grace ran out");
    }
    // Every handle to the writer is gone once the requests and the demo
    // are: it drains its queue and ends.
    if timeout_at(deadline, writer_task).await.is_err() {
        tracing::warn!("pending writes had not finished when the shutdown grace ran out");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The profile set, once the screens file (and the demo's profiles) are in
/// the store.
async fn start_profiles(cli: &Cli, store: &Arc<dyn store::Store>) -> anyhow::Result<Arc<Profiles>> {
    if cli.demo {
        store.put_profiles(&demo::profiles()).await?;
    }
    if let Some(path) = &cli.screens_file {
        let set = profiles::put_file(&**store, path)
            .await
            .map_err(anyhow::Error::msg)?;
        tracing::info!(file = %path.display(), profiles = set.len(), "screens file read");
    }
    // Without a news follower, nothing else tells this instance's screens.
    let local = store.clone().news_follower().is_none();
    Ok(Profiles::start(store.clone(), local).await?)
}

/// The files SIGHUP reads again.
fn reloader(
    cli: &Cli,
    auth: &Arc<Live<Auth>>,
    groups: &Arc<Live<SiteGroups>>,
    profiles: &Arc<Profiles>,
    sources: &Arc<Sources>,
    store: &Arc<dyn store::Store>,
) -> Reloader {
    let mut files = Reloader::default();
    if let Some(path) = &cli.users_file {
        files.add(path, reload::UsersFile(auth.clone()));
    }
    if let Some(path) = &cli.sites_file {
        files.add(path, reload::SitesFile(groups.clone()));
    }
    if let Some(path) = &cli.screens_file {
        files.add(path, reload::ScreensFile(profiles.clone()));
    }
    if let Some(path) = &cli.sources_file {
        files.add(path, reload::SourcesFile(sources.clone(), store.clone()));
    }
    files
}

/// Serves `app` on `listener` until `shutdown`, then waits for in-flight
/// requests until the shutdown's deadline, which it returns.
async fn serve<L>(
    listener: L,
    app: axum::Router,
    shutdown: &CancellationToken,
) -> anyhow::Result<Instant>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    for<'a> Peer: axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .into_future();
    tokio::pin!(server);
    let deadline = tokio::select! {
        result = &mut server => {
            result.context("the HTTP server failed")?;
            return Ok(Instant::now() + SHUTDOWN_GRACE);
        }
        () = shutdown.cancelled() => Instant::now() + SHUTDOWN_GRACE,
    };
    match timeout_at(deadline, server).await {
        Ok(result) => result.context("the HTTP server failed")?,
        Err(_) => tracing::warn!("in-flight requests did not finish within 5 s; stopping anyway"),
    }
    Ok(deadline)
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
