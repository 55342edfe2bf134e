//! Shared by the integration tests: the real `noc-server` in-process on an
//! ephemeral port, and the client's own network task feeding a real `App`.
#![allow(dead_code)] // each test binary uses a different part of this

pub mod tmux;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use noc_tui::app::{App, Msg, Now, update};
use noc_tui::net::{self, Backoff, Command, NetEvent, NetOptions};
use noc_tui::{Cli, Config};
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The ingest token every test server takes.
pub const INGEST: &str = "e2e-ingest-token";

/// How long a test waits for anything before it fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// Awaits `fut`, or fails the test naming `what` after [`WAIT`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A running `noc-server`. Dropping it cancels it.
pub struct Server {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// Whether the server speaks HTTPS (see [`Server::trusting`]).
    https: bool,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    /// The database lives here, as long as any server started on it.
    pub dir: Arc<TempDir>,
}

impl Server {
    /// A server on a fresh database, on an ephemeral port.
    pub async fn start(extra: &[&str]) -> Server {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        Server::start_on(dir, "127.0.0.1:0", extra).await
    }

    /// A server on the database in `dir`, listening on `listen`. The
    /// listener is bound before the server task starts, so requests made
    /// right away wait in the backlog instead of failing: no polling needed.
    pub async fn start_on(dir: Arc<TempDir>, listen: &str, extra: &[&str]) -> Server {
        let database = format!("sqlite://{}", dir.path().join("noc.db").display());
        let mut args = vec![
            "noc-server",
            "--ingest-token",
            INGEST,
            "--database",
            &database,
            "--listen",
            listen,
        ];
        args.extend_from_slice(extra);
        let cli = noc_server::config::Cli::try_parse_from(&args).expect("valid server flags");
        let listener = tokio::net::TcpListener::bind(cli.listen)
            .await
            .expect("bind the server's port");
        let addr = listener.local_addr().expect("local addr");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(noc_server::run(listener, cli, shutdown.clone()));
        Server {
            addr,
            http: reqwest::Client::new(),
            https: false,
            shutdown,
            task: Some(task),
            dir,
        }
    }

    /// For a server started with `--tls-cert`: speak HTTPS to it, trusting
    /// the CA certificate `ca_pem` (which must cover `127.0.0.1`).
    pub fn trusting(mut self, ca_pem: &str) -> Server {
        let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("a PEM certificate");
        self.http = reqwest::Client::builder()
            .add_root_certificate(ca)
            .build()
            .expect("HTTPS client");
        self.https = true;
        self
    }

    /// `http://127.0.0.1:port` (or `https://`), the form `--url` takes as a
    /// base.
    pub fn base(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops the server as SIGTERM would and waits until it has returned.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            within("the server to stop", task)
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// Posts `body` to the webhook and expects 200.
    pub async fn post(&self, body: &Value) -> Value {
        let response = within(
            "POST /internal/alerts",
            self.http
                .post(format!("{}/internal/alerts", self.base()))
                .bearer_auth(INGEST)
                .json(body)
                .send(),
        )
        .await
        .expect("POST /internal/alerts");
        let status = response.status();
        let answer: Value = within("the answer", response.json()).await.expect("JSON");
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// `GET /api/v1/screens`.
    pub async fn screens(&self) -> Vec<Value> {
        let response = within(
            "GET /api/v1/screens",
            self.http
                .get(format!("{}/api/v1/screens", self.base()))
                .send(),
        )
        .await
        .expect("GET /api/v1/screens");
        assert_eq!(response.status(), 200);
        let body: Value = within("the answer", response.json()).await.expect("JSON");
        match body {
            Value::Array(items) => items,
            other => panic!("expected a list of screens, got {other}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Ends `child` with SIGTERM, as systemd or a log shipper would, and
/// expects a clean exit 0.
pub async fn terminate(child: &mut tokio::process::Child) {
    let pid = child.id().expect("running").to_string();
    let kill = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(kill.success());
    let status = within("noc-tui to exit", child.wait()).await.expect("wait");
    assert_eq!(status.code(), Some(0));
}

/// An alert body for the webhook.
pub fn alert(id: &str, site: &str, severity: &str) -> Value {
    serde_json::json!({
        "id": id,
        "site": site,
        "severity": severity,
        "message": format!("{id} at {site}"),
        "host": format!("{id}.host"),
    })
}

/// Network timings short enough for tests.
pub fn fast_options() -> NetOptions {
    NetOptions {
        backoff: Backoff::new(Duration::from_millis(50), Duration::from_millis(400)),
        ..NetOptions::default()
    }
}

/// The client's network task, feeding a real [`App`] as the screen would.
pub struct Client {
    pub app: App,
    events: mpsc::Receiver<NetEvent>,
    /// Dropping this ends the network task.
    commands: Option<mpsc::Sender<Command>>,
    task: JoinHandle<()>,
}

impl Client {
    /// Starts the network task with these `noc-tui` flags.
    pub fn start(args: &[&str]) -> Client {
        Client::start_with(args, fast_options())
    }

    /// Starts the network task with these flags and timings.
    pub fn start_with(args: &[&str], options: NetOptions) -> Client {
        let mut argv = vec!["noc-tui"];
        argv.extend_from_slice(args);
        let config = Config::from_cli(Cli::parse_from(argv)).expect("valid client flags");
        let app = App::new(&config, Now::current());
        let (events_tx, events) = mpsc::channel(1024);
        let (commands_tx, commands_rx) = mpsc::channel(4);
        let task = tokio::spawn(net::run(config, options, events_tx, commands_rx));
        Client {
            app,
            events,
            commands: Some(commands_tx),
            task,
        }
    }

    /// The next network event, already applied to the app.
    pub async fn next(&mut self) -> NetEvent {
        let event = within("a network event", self.events.recv())
            .await
            .expect("the network task is running");
        update(&mut self.app, Msg::Net(event.clone()), Now::current());
        event
    }

    /// Applies events until `done` holds for the app and the last event.
    pub async fn until(&mut self, what: &str, done: impl Fn(&App, &NetEvent) -> bool) {
        within(what, async {
            loop {
                let event = self.next().await;
                if done(&self.app, &event) {
                    return;
                }
            }
        })
        .await;
    }

    /// The ids on screen, in display order.
    pub fn ids(&self) -> Vec<String> {
        self.app.visible_alerts().map(|a| a.id.clone()).collect()
    }

    /// Ends the network task as the screen does on quit, and waits for it.
    pub async fn stop(mut self) {
        self.commands.take();
        within("the network task to end", &mut self.task)
            .await
            .expect("network task");
    }
}

/// Called when a test's real program is missing: with `<require>=1` (CI
/// sets them all, `.ci/run`) the test fails; otherwise it says on stderr
/// that it is skipped and why, and the caller returns.
pub fn skip_or_fail(require: &str, missing: &str) {
    use std::io::Write;
    let why = format!("skipped: {missing} not installed (run scripts/ci-setup.sh)");
    if std::env::var_os(require).is_some_and(|v| v == "1") {
        panic!("{require}=1 but {missing} is not installed (run scripts/ci-setup.sh)");
    }
    // Straight to the process's stderr: the test harness captures println!
    // of passing tests, and this line must be seen.
    let _ = writeln!(std::io::stderr(), "{why}");
}
