//! Shared by the integration tests: a real server on an ephemeral port with
//! a temporary SQLite file, real HTTP and WebSocket clients.
#![allow(dead_code)] // each test binary uses a different part of this

pub mod alertmanager;
pub mod media;
pub mod process;
pub mod silences;
pub mod zabbix_stack;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use noc_server::config::Cli;
use noc_shared::{Alert, AlertEvent, EventKind, ServerMessage};
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

pub const INGEST: &str = "ingest-secret";
/// How long a test waits for anything before it fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `fut` or fails the test after [`WAIT`].
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A running server. Dropping it without [`TestServer::stop`] cancels it.
pub struct TestServer {
    pub addr: SocketAddr,
    pub database: String,
    pub shutdown: CancellationToken,
    pub http: reqwest::Client,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    /// Keeps the database directory alive as long as the server.
    pub dir: std::sync::Arc<TempDir>,
}

impl TestServer {
    /// A server on a fresh SQLite file; `extra` flags come after the defaults
    /// (`--ingest-token`, `--database`, `--listen`).
    pub async fn start(extra: &[&str]) -> TestServer {
        let dir = std::sync::Arc::new(tempfile::tempdir().expect("tempdir"));
        let database = fresh_database(&dir).await;
        TestServer::start_on(dir, database, "127.0.0.1:0", extra).await
    }

    /// A server on `database`, listening on `listen` (e.g. the address of a
    /// server stopped just before, to restart it in place).
    pub async fn start_on(
        dir: std::sync::Arc<TempDir>,
        database: String,
        listen: &str,
        extra: &[&str],
    ) -> TestServer {
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
        let cli = Cli::try_parse_from(&args).expect("valid flags");
        let listener = bind(cli.listen).await;
        let addr = listener.local_addr().expect("local addr");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(noc_server::run(listener, cli, shutdown.clone()));
        let server = TestServer {
            addr,
            database,
            shutdown,
            http: reqwest::Client::new(),
            task: Some(task),
            dir,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        within("the server to answer /healthz", async {
            loop {
                if let Ok(r) = self.http.get(self.url("/healthz")).send().await {
                    if r.status().is_success() {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `ws://…/ws/alerts?<query>`.
    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/ws/alerts?{query}", self.addr)
    }

    /// Posts `body` to the webhook with the ingest token.
    pub async fn post(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url("/internal/alerts"))
            .bearer_auth(INGEST)
            .json(body)
            .send()
            .await
            .expect("POST /internal/alerts")
    }

    /// Posts and expects 200; returns the answer.
    pub async fn post_ok(&self, body: &Value) -> Value {
        let response = self.post(body).await;
        let status = response.status();
        let answer: Value = response.json().await.expect("JSON answer");
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// The alert as `GET /api/v1/alerts/{id}` shows it.
    pub async fn stored(&self, id: &str) -> Alert {
        let value = self.get_json(&format!("/api/v1/alerts/{id}")).await;
        serde_json::from_value(value).expect("an alert")
    }

    /// Posts a marker for [`Screen::expect_marker`]: a new critical alert
    /// at `site`, under an id no other alert has. Returns the id.
    pub async fn post_marker(&self, site: &str) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = format!("marker-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.post_ok(&alert(&id, site, "critical")).await;
        id
    }

    /// How many alerts the store holds, in any status, counted in the
    /// database itself: the list API answers at most 1000.
    pub async fn alerts_in_store(&self) -> i64 {
        use sqlx::Connection;
        let count = "SELECT COUNT(*) FROM alerts";
        within("the alert count", async {
            if self.database.starts_with("postgres") {
                let mut conn = sqlx::PgConnection::connect(&self.database)
                    .await
                    .expect("connect to the test database");
                sqlx::query_scalar(count).fetch_one(&mut conn).await
            } else {
                let mut conn = sqlx::SqliteConnection::connect(&self.database)
                    .await
                    .expect("open the test database");
                sqlx::query_scalar(count).fetch_one(&mut conn).await
            }
            .expect("count the alerts")
        })
        .await
    }

    /// The seq of the last event, from a new screen's snapshot (the events
    /// metric of a PostgreSQL instance moves a moment after the answer,
    /// when its follower publishes).
    pub async fn last_seq(&self) -> u64 {
        Screen::connect(&self.ws_url("")).await.snapshot().await.seq
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON answer")
    }

    /// Stops the server as SIGTERM would and waits until it returned.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            within("the server to stop", task)
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// Stops the server as SIGTERM would and returns how long `run` took to
    /// return, which it must do cleanly within `limit`.
    pub async fn stop_timed(mut self, limit: Duration) -> Duration {
        let started = tokio::time::Instant::now();
        self.shutdown.cancel();
        let task = self.task.take().expect("a running server");
        tokio::time::timeout(limit, task)
            .await
            .unwrap_or_else(|_| panic!("the server did not stop within {limit:?}"))
            .expect("server task")
            .expect("server ran cleanly");
        started.elapsed()
    }

    /// Stops the server and drops its PostgreSQL test database, if any.
    pub async fn stop_and_drop_database(self) {
        let database = self.database.clone();
        self.stop().await;
        drop_postgres_database(&database).await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The value of metric `name` (a line `name value`) at `base`'s `/metrics`.
pub async fn metric(http: &reqwest::Client, base: &str, name: &str) -> Option<String> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ').map(str::to_owned))
}

/// The PostgreSQL server the tests may use, from `NOC_TEST_DATABASE_URL`.
pub fn postgres_url() -> Option<String> {
    std::env::var("NOC_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A new, empty database for one test: a SQLite file in `dir`, or, when
/// `NOC_TEST_STORE=postgres`, a new PostgreSQL database on the server of
/// `NOC_TEST_DATABASE_URL` (the whole suite then runs on PostgreSQL).
pub async fn fresh_database(dir: &TempDir) -> String {
    if std::env::var("NOC_TEST_STORE").as_deref() == Ok("postgres") {
        let base = postgres_url().expect("NOC_TEST_STORE=postgres needs NOC_TEST_DATABASE_URL");
        return fresh_postgres_database(&base).await;
    }
    format!("sqlite://{}", dir.path().join("noc.db").display())
}

/// Creates an empty database beside the one `base` names and returns its URL.
pub async fn fresh_postgres_database(base: &str) -> String {
    use sqlx::Connection;
    let name = format!("noc_test_{}", uuid_like());
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .expect("connect to NOC_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE");
    let (server, _) = base.rsplit_once('/').expect("a URL ending in /DATABASE");
    format!("{server}/{name}")
}

/// Drops a database made by [`fresh_postgres_database`]; SQLite files go
/// with their temporary directory.
pub async fn drop_postgres_database(url: &str) {
    use sqlx::Connection;
    let (Some(base), Some((_, name))) = (postgres_url(), url.rsplit_once('/')) else {
        return;
    };
    if !url.starts_with("postgres") || !name.starts_with("noc_test_") {
        return;
    }
    if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}

/// A name unique enough for a test database.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}_{nanos}", std::process::id())
}

/// Binds `addr`, retrying a moment while a stopped server's port is freed.
async fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    within("the port to be free", async {
        loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => return l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
}

/// A minimal alert body.
pub fn alert(id: &str, site: &str, severity: &str) -> Value {
    serde_json::json!({ "id": id, "site": site, "severity": severity, "message": format!("{id} at {site}") })
}

/// A real WebSocket client.
pub struct Screen {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Screen {
    pub async fn connect(url: &str) -> Screen {
        let (ws, _) = within(
            "the WebSocket handshake",
            tokio_tungstenite::connect_async(url),
        )
        .await
        .expect("connect");
        Screen { ws }
    }

    /// The next protocol message, heartbeats included.
    pub async fn next_any(&mut self) -> ServerMessage {
        loop {
            let frame = within("a WebSocket message", self.ws.next())
                .await
                .expect("stream open")
                .expect("frame");
            if let Message::Text(text) = frame {
                return serde_json::from_str(text.as_str())
                    .unwrap_or_else(|e| panic!("bad message {text}: {e}"));
            }
        }
    }

    /// The next message that is not a heartbeat.
    pub async fn next(&mut self) -> ServerMessage {
        loop {
            match self.next_any().await {
                ServerMessage::Heartbeat { .. } => continue,
                other => return other,
            }
        }
    }

    /// The next alert event, skipping heartbeats: its kind, and the event
    /// (seq and alert).
    pub async fn next_event(&mut self) -> (EventKind, AlertEvent) {
        let msg = self.next().await;
        let (kind, event) = msg
            .as_alert_event()
            .unwrap_or_else(|| panic!("expected an alert event, got {msg:?}"));
        (kind, event.clone())
    }

    /// The kind and alert of the next alert event, skipping heartbeats.
    pub async fn next_alert(&mut self) -> (EventKind, Alert) {
        let (kind, event) = self.next_event().await;
        (kind, event.alert)
    }

    /// Expects a snapshot next and returns it.
    pub async fn snapshot(&mut self) -> noc_shared::Snapshot {
        match self.next().await {
            ServerMessage::Snapshot(s) => s,
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    /// Expects marker `id` ([`TestServer::post_marker`]) created as the
    /// next message, heartbeats aside, and returns its event.
    ///
    /// This is how a test shows that an event did *not* reach a screen:
    /// events reach a screen in seq order, so one emitted before the marker
    /// was posted would arrive before it. Waiting a while for silence could
    /// not show that; it misses an event that comes late.
    pub async fn expect_marker(&mut self, id: &str) -> AlertEvent {
        let msg = self.next().await;
        match msg.as_alert_event() {
            Some((EventKind::Created, event)) if event.alert.id == id => event.clone(),
            _ => panic!("expected marker {id} next, got {msg:?}"),
        }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }
}

/// The first of `names` found on `PATH` (tests install nothing themselves).
pub fn find_program(names: &[&str]) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
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
