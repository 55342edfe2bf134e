//! The browser screen end to end: the real server in-process, the page in a
//! headless Chromium driven over WebDriver (ChromeDriver). One test uses a
//! stand-in server instead, for a link that goes silent without closing.
//!
//! Where Chromium or ChromeDriver is not installed the test says so and
//! passes; `scripts/ci-setup.sh` installs both, and with
//! `NOC_REQUIRE_BROWSER=1` a missing browser fails the test instead. It
//! never installs anything itself.
//!
//! `cargo test -p noc-server --test browser -- --ignored screenshot` redraws
//! the docs' `docs/browser-screen.png`, or writes to `$NOC_SCREENSHOT`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestServer, WAIT, find_program, skip_or_fail, within};
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The exact words of the banner, from the protocol.
const BANNER: &str = "Disconnected — reconnecting…";
/// A live alert must be on screen this soon after the server took it.
const LIVE_WITHIN: Duration = Duration::from_secs(2);
/// Short, so that three silent intervals (a dead link) pass quickly.
const HEARTBEAT: &str = "500ms";
const OPERATOR_EMAIL: &str = "irene@sprinttz.example";
const OPERATOR_TOKEN: &str = "operator-secret";

/// What a message from a hostile monitoring system looks like.
const HOSTILE: &str = "<img src=x onerror=alert(1)> disk <b>bold</b> & \"quoted\"";

/// Chromium and ChromeDriver, where they are installed.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Tools {
    /// Looks on `PATH` only: the test installs nothing.
    fn find() -> Option<Tools> {
        let chromium = find_program(&[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ])?;
        let chromedriver = find_program(&["chromedriver"])?;
        Some(Tools {
            chromium,
            chromedriver,
        })
    }

    /// The tools, or `None` after saying why the test is skipped (or a panic
    /// where the caller asked that the browser test always run).
    fn or_skip() -> Option<Tools> {
        let tools = Tools::find();
        if tools.is_none() {
            skip_or_fail("NOC_REQUIRE_BROWSER", "chromium or chromedriver");
        }
        tools
    }
}

/// A port that was free a moment ago, for ChromeDriver to listen on.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// A running ChromeDriver with its own Chromium profile. Dropping it kills
/// ChromeDriver and the browser it started, also when a test fails.
struct Driver {
    child: Child,
    port: u16,
    /// The fresh, empty profile; removed after the processes are gone.
    profile: TempDir,
}

impl Driver {
    fn spawn(tools: &Tools) -> Driver {
        let port = free_port();
        let profile = tempfile::tempdir().expect("profile dir");
        let mut command = Command::new(&tools.chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so that Drop can end Chromium along with
        // ChromeDriver even when the session was never closed.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect("start chromedriver");
        Driver {
            child,
            port,
            profile,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until ChromeDriver says it is ready for a session.
    async fn ready(&mut self) {
        let http = reqwest::Client::new();
        let status = format!("{}/status", self.url());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("chromedriver exited at start: {exit}");
            }
            if let Ok(response) = http.get(&status).send().await {
                if let Ok(body) = response.json::<Value>().await {
                    if body["value"]["ready"] == json!(true) {
                        return;
                    }
                }
            }
            assert!(Instant::now() < deadline, "chromedriver not ready in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            // The whole group: ChromeDriver and every Chromium process.
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session on a 1920×1080 window.
struct Browser {
    client: Client,
    /// Dropped after `client`: kills the processes behind it.
    _driver: Driver,
}

impl Browser {
    async fn start(tools: &Tools) -> Browser {
        let mut driver = Driver::spawn(tools);
        driver.ready().await;
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            "--window-size=1920,1080".into(),
            format!("--user-data-dir={}", driver.profile.path().display()),
        ];
        let mut capabilities = Capabilities::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        // A dialog (an alert() an attacker slipped in) must stay open for
        // the test to see, not be dismissed quietly.
        capabilities.insert("unhandledPromptBehavior".into(), json!("ignore"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": tools.chromium, "args": args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            WAIT * 3,
            ClientBuilder::new(connector)
                .capabilities(capabilities)
                .connect(&driver.url()),
        )
        .await
        .expect("a Chromium session in time")
        .expect("a Chromium session");
        let browser = Browser {
            client,
            _driver: driver,
        };
        browser.size_viewport(1920, 1080).await;
        browser
    }

    /// Makes the page itself (not the window around it) `width`×`height`,
    /// the size of a 1080p wall screen.
    async fn size_viewport(&self, width: u32, height: u32) {
        let frame = self
            .js("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];")
            .await;
        let extra = |i: usize| u32::try_from(frame[i].as_u64().unwrap_or(0)).unwrap_or(0);
        self.client
            .set_window_size(width + extra(0), height + extra(1))
            .await
            .expect("set the window size");
        let inner = self
            .js("return [window.innerWidth, window.innerHeight];")
            .await;
        assert_eq!(inner, json!([width, height]), "the viewport size");
    }

    async fn open(&self, server: &TestServer, path: &str) {
        self.client
            .goto(&server.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Runs `script` (a function body that `return`s) in the page.
    async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns something other than `null` or
    /// `false`, and returns that; fails after `limit`.
    async fn wait_for(&self, what: &str, limit: Duration, script: &str) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let value = self.js(script).await;
            if !value.is_null() && value != json!(false) {
                return value;
            }
            if Instant::now() >= deadline {
                let state = self.js(PAGE_STATE).await;
                panic!("timed out after {limit:?} waiting for {what}; the page: {state:#}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The ids of the alert rows on screen, top to bottom.
    async fn ids(&self) -> Vec<String> {
        let ids = self
            .js("return [...document.querySelectorAll('#alerts > li')].map(r => r.dataset.id);")
            .await;
        serde_json::from_value(ids).expect("a list of ids")
    }

    /// Waits until the page is live and shows exactly `expected`, in any
    /// order.
    async fn wait_for_ids(&self, what: &str, expected: &[&str]) {
        let mut sorted: Vec<&str> = expected.to_vec();
        sorted.sort_unstable();
        let script = format!(
            "if (document.body.dataset.link !== 'live') return false;
             const ids = [...document.querySelectorAll('#alerts > li')].map(r => r.dataset.id).sort();
             return JSON.stringify(ids) === {want:?};",
            want = serde_json::to_string(&sorted).expect("json"),
        );
        self.wait_for(what, WAIT, &script).await;
    }

    /// Fails unless no JavaScript dialog is open.
    async fn assert_no_dialog(&self) {
        match self.client.get_alert_text().await {
            Err(e) if e.is_no_such_alert() => {}
            Ok(text) => panic!("a dialog opened: {text:?}"),
            Err(e) => panic!("cannot ask for dialogs: {e}"),
        }
    }

    async fn close(self) {
        let Browser { client, _driver } = self;
        let _ = tokio::time::timeout(WAIT, client.close()).await;
    }
}

/// What the page shows, for a failing test's message.
const PAGE_STATE: &str = "return {
    link: document.body.dataset.link,
    banner: document.getElementById('banner').hidden ? null : document.getElementById('banner').textContent,
    rows: [...document.querySelectorAll('#alerts > li')].map(r => r.dataset.id + ' ' + r.className),
};";

/// The CSS selector of the row of alert `id`.
fn row(id: &str) -> String {
    format!(
        "#alerts > li[data-id={}]",
        serde_json::to_string(id).expect("json")
    )
}

/// A users file with one operator, for acknowledgements.
fn users_file(dir: &Path) -> PathBuf {
    let path = dir.join("users.toml");
    std::fs::write(
        &path,
        format!("[[user]]\nemail = \"{OPERATOR_EMAIL}\"\ntoken = \"{OPERATOR_TOKEN}\"\n"),
    )
    .expect("write users file");
    path
}

fn alert(id: &str, site: &str, severity: &str, message: &str) -> Value {
    json!({ "id": id, "site": site, "severity": severity, "message": message, "host": format!("{id}.example") })
}

async fn ack(server: &TestServer, id: &str) {
    let response = server
        .http
        .post(server.url(&format!("/api/v1/alerts/{id}/ack")))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .expect("POST ack");
    assert_eq!(response.status(), 200, "ack {id}");
}

async fn resolve(server: &TestServer, id: &str) {
    server
        .post_ok(&json!({ "id": id, "event": "alert.resolved" }))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_screen_end_to_end() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let users_dir = tempfile::tempdir().expect("tempdir");
    let users = users_file(users_dir.path());
    let users = users.to_str().expect("utf-8 path");
    let flags = ["--heartbeat-interval", HEARTBEAT, "--users-file", users];
    let server = TestServer::start(&flags).await;
    server
        .post_ok(&json!([
            alert(
                "kili-core",
                "Kilimanjaro",
                "critical",
                "Core switch sw-01 unreachable"
            ),
            alert("seren-ups", "Serengeti", "warning", "UPS on battery"),
            alert(
                "kampala-bgp",
                "Kampala",
                "high",
                "BGP session to AS37100 down"
            ),
            alert("kili-hostile", "Kilimanjaro", "average", HOSTILE),
            alert("kili-info", "Kilimanjaro", "info", "Backup finished"),
        ]))
        .await;
    let browser = Browser::start(&tools).await;

    // A screen for one site at average and above: the snapshot holds only
    // what matches; live events for other sites or lower severities never
    // show; an alert that falls below the filter or moves to another site
    // leaves, and one that comes back into it returns.
    browser
        .open(
            &server,
            "/?sites=Kilimanjaro&min_severity=average&client=one-site",
        )
        .await;
    browser
        .wait_for_ids("the filtered snapshot", &["kili-core", "kili-hostile"])
        .await;
    let radio = "Radio link down";
    server
        .post_ok(&alert("seren-new", "Serengeti", "critical", radio))
        .await;
    server
        .post_ok(&alert(
            "kili-low",
            "Kilimanjaro",
            "warning",
            "Fan speed high",
        ))
        .await;
    let config = "Config rollback failed";
    server
        .post_ok(&alert("kili-new", "Kilimanjaro", "high", config))
        .await;
    let filtered = ["kili-core", "kili-hostile", "kili-new"];
    browser
        .wait_for_ids("only the live alert that matches", &filtered)
        .await;
    server
        .post_ok(&alert("kili-new", "Kilimanjaro", "info", config))
        .await;
    browser
        .wait_for_ids(
            "an alert that fell below min_severity to leave",
            &["kili-core", "kili-hostile"],
        )
        .await;
    server
        .post_ok(&alert("kili-new", "Kilimanjaro", "high", config))
        .await;
    browser
        .wait_for_ids("an alert back in the filter to return", &filtered)
        .await;
    server
        .post_ok(&alert("kili-new", "Serengeti", "high", config))
        .await;
    browser
        .wait_for_ids(
            "an alert that moved to another site to leave",
            &["kili-core", "kili-hostile"],
        )
        .await;

    // The screen for every site.
    browser.open(&server, "/?client=every-site").await;
    let all = [
        "kili-core",
        "kili-hostile",
        "kili-info",
        "kili-low",
        "seren-ups",
        "seren-new",
        "kampala-bgp",
        "kili-new",
    ];
    browser.wait_for_ids("the full snapshot", &all).await;
    assert_eq!(
        browser.ids().await[..2],
        ["seren-new", "kili-core"],
        "criticals first, newest first"
    );
    let counts = browser
        .js(
            "return ['critical','high','average','warning','info','total']
                .map(k => document.getElementById('count-' + k).textContent);",
        )
        .await;
    assert_eq!(counts, json!(["2", "2", "1", "2", "1", "8"]), "counts");
    let critical = browser
        .js(&format!(
            "const s = getComputedStyle(document.querySelector('{}'));
             return [s.color, s.backgroundColor];",
            row("kili-core")
        ))
        .await;
    assert_eq!(
        critical,
        json!(["rgb(255, 255, 255)", "rgb(215, 25, 31)"]),
        "critical is white on red"
    );

    // Hostile text shows as text and makes no element.
    let hostile = browser
        .js(&format!(
            "const row = document.querySelector('{}');
             return {{
                 text: row.querySelector('.msg').textContent,
                 elements: document.querySelectorAll('#alerts img, #alerts b, main img, main b').length,
             }};",
            row("kili-hostile")
        ))
        .await;
    assert_eq!(
        hostile["text"],
        json!(HOSTILE),
        "hostile text shown literally"
    );
    assert_eq!(hostile["elements"], json!(0), "hostile text made elements");
    browser.assert_no_dialog().await;

    // Heartbeats are answered with pongs that carry the heartbeat's ts.
    browser
        .js("if (!window.sentFrames) {
                 window.sentFrames = [];
                 const send = WebSocket.prototype.send;
                 WebSocket.prototype.send = function (data) {
                     window.sentFrames.push(String(data));
                     return send.call(this, data);
                 };
             }
             return null;")
        .await;
    let pong = browser
        .wait_for(
            "a pong",
            WAIT,
            "return (window.sentFrames || []).map(f => JSON.parse(f)).find(f => f.event === 'pong') || null;",
        )
        .await;
    let now = chrono::Utc::now().timestamp();
    let ts = pong["ts"].as_i64().expect("pong ts is a number");
    assert!(
        (ts - now).abs() < 60,
        "pong ts {ts} is a heartbeat's unix time"
    );

    // A live alert shows within 2 s, and a new critical stands out.
    server
        .post_ok(&alert(
            "kili-live",
            "Kilimanjaro",
            "critical",
            "Power feed A lost",
        ))
        .await;
    let took = Instant::now();
    browser
        .wait_for(
            "the live alert",
            LIVE_WITHIN,
            &format!(
                "return document.querySelector('{}') !== null;",
                row("kili-live")
            ),
        )
        .await;
    println!(
        "live alert on screen {:?} after the server took it",
        took.elapsed()
    );
    let fresh = browser
        .js(&format!(
            "const r = document.querySelector('{}'); return [r.classList.contains('fresh'), r.querySelector('.new-tag') !== null];",
            row("kili-live")
        ))
        .await;
    assert_eq!(fresh, json!([true, true]), "a new critical stands out");

    // An acknowledgement is marked with who made it.
    ack(&server, "kampala-bgp").await;
    browser
        .wait_for(
            "the acknowledgement",
            WAIT,
            &format!(
                "const r = document.querySelector('{}');
                 return r.classList.contains('acked') && r.querySelector('.ack').textContent.includes('{OPERATOR_EMAIL}');",
                row("kampala-bgp")
            ),
        )
        .await;

    // A resolved alert leaves.
    resolve(&server, "seren-ups").await;
    browser
        .wait_for(
            "the resolved alert to go",
            WAIT,
            &format!(
                "return document.querySelector('{}') === null;",
                row("seren-ups")
            ),
        )
        .await;
    let before_stop = browser.ids().await;

    // The server goes away: a banner, and the last alerts stay, marked stale.
    let (dir, database, addr) = (
        Arc::clone(&server.dir),
        server.database.clone(),
        server.addr,
    );
    server.stop().await;
    let down = browser
        .wait_for(
            "the disconnected banner",
            WAIT,
            "const banner = document.getElementById('banner');
             if (banner.hidden || banner.offsetHeight === 0) return null;
             return {
                 text: banner.textContent,
                 stale: document.body.classList.contains('stale'),
                 link: document.body.dataset.link,
             };",
        )
        .await;
    assert_eq!(
        down,
        json!({ "text": BANNER, "stale": true, "link": "down" }),
        "the banner and the stale marking"
    );
    assert_eq!(
        browser.ids().await,
        before_stop,
        "the last alerts stay visible"
    );

    // The server comes back on the same address and store: the page
    // reconnects by itself and shows the new state.
    let server = TestServer::start_on(dir, database, &addr.to_string(), &flags).await;
    resolve(&server, "kili-core").await;
    server
        .post_ok(&alert(
            "after-restart",
            "Entebbe",
            "high",
            "Fibre cut on the Entebbe ring",
        ))
        .await;
    let mut expected: Vec<&str> = before_stop
        .iter()
        .map(String::as_str)
        .filter(|id| *id != "kili-core")
        .collect();
    expected.push("after-restart");
    browser
        .wait_for_ids("the page back by itself with the new state", &expected)
        .await;
    let up = browser
        .js("return {
                 banner: document.getElementById('banner').hidden,
                 stale: document.body.classList.contains('stale'),
             };")
        .await;
    assert_eq!(up, json!({ "banner": true, "stale": false }), "banner gone");
    browser.assert_no_dialog().await;

    browser.close().await;
    server.stop().await;
}

/// A link that goes quiet without closing (a frozen server, a connection
/// lost somewhere upstream) shows only as silence: three heartbeat
/// intervals without a word and the page must call it dead, show the
/// banner, and dial again. The real server never goes quiet, so a stand-in
/// serves the same page and a WebSocket that sends one snapshot and then
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_link_counts_as_down_and_the_page_dials_again() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let silent = SilentServer::start().await;
    let browser = Browser::start(&tools).await;
    let url = format!("http://{}/?client=silent", silent.addr);
    browser.client.goto(&url).await.expect("open the page");
    browser
        .wait_for(
            "the snapshot",
            WAIT,
            "return document.body.dataset.link === 'live'
                 && document.querySelector('#alerts > li[data-id=\"quiet-1\"]') !== null;",
        )
        .await;
    let down = browser
        .wait_for(
            "the silent link to count as down",
            SILENT_HEARTBEAT * 3 + WAIT,
            "const banner = document.getElementById('banner');
             if (banner.hidden) return null;
             return {
                 text: banner.textContent,
                 stale: document.body.classList.contains('stale'),
                 rows: document.querySelectorAll('#alerts > li').length,
             };",
        )
        .await;
    assert_eq!(down, json!({ "text": BANNER, "stale": true, "rows": 1 }));
    // Timed on the server's side, from the snapshot to the page's close:
    // not before three intervals, and not much after.
    let silence = within("the page to close the silent link", async {
        loop {
            if let Some(first) = silent.silences.lock().expect("lock").first() {
                return *first;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await;
    assert!(
        silence >= SILENT_HEARTBEAT * 3 - Duration::from_millis(50),
        "the link was called dead after only {silence:?} of silence"
    );
    assert!(
        silence <= SILENT_HEARTBEAT * 3 + Duration::from_secs(2),
        "the link was called dead only after {silence:?} of silence"
    );
    within("the page to dial again", async {
        while silent.connections.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await;
    browser.close().await;
}

/// The heartbeat the stand-in announces in its snapshot.
const SILENT_HEARTBEAT: Duration = Duration::from_millis(300);

/// Serves the browser screen's own files and a WebSocket that goes quiet
/// after its snapshot. Stops when dropped.
struct SilentServer {
    addr: std::net::SocketAddr,
    /// WebSocket connections so far.
    connections: Arc<AtomicUsize>,
    /// For each connection the page closed: how long after the snapshot.
    silences: Arc<Mutex<Vec<Duration>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SilentServer {
    async fn start() -> SilentServer {
        use axum::http::header::CONTENT_TYPE;
        use axum::response::Html;
        use axum::routing::get;

        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let silences = Arc::new(Mutex::new(Vec::new()));
        let closes = Arc::clone(&silences);
        let app = axum::Router::new()
            .route(
                "/",
                get(|| async { Html(include_str!("../web/index.html")) }),
            )
            .route(
                "/app.js",
                get(|| async {
                    (
                        [(CONTENT_TYPE, "text/javascript")],
                        include_str!("../web/app.js"),
                    )
                }),
            )
            .route(
                "/style.css",
                get(|| async {
                    (
                        [(CONTENT_TYPE, "text/css")],
                        include_str!("../web/style.css"),
                    )
                }),
            )
            .route(
                "/static/{file}",
                get(
                    |axum::extract::Path(file): axum::extract::Path<String>| async move {
                        // The page's modules, straight from the source tree.
                        let kind = if file.ends_with(".css") {
                            "text/css"
                        } else {
                            "text/javascript"
                        };
                        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("web/static")
                            .join(&file);
                        let body = std::fs::read_to_string(path).unwrap_or_default();
                        ([(CONTENT_TYPE, kind)], body)
                    },
                ),
            )
            .route(
                "/ws/alerts",
                get(move |upgrade: axum::extract::WebSocketUpgrade| {
                    let counter = Arc::clone(&counter);
                    let closes = Arc::clone(&closes);
                    async move {
                        upgrade.on_upgrade(move |mut socket| async move {
                            counter.fetch_add(1, Ordering::SeqCst);
                            let snapshot = json!({
                                "event": "snapshot", "reason": "connect", "seq": 1,
                                "sites": null, "min_severity": "info",
                                "heartbeat_ms": SILENT_HEARTBEAT.as_millis(),
                                "alerts": [quiet_alert()], "truncated": false,
                            });
                            let text = snapshot.to_string();
                            let _ = socket
                                .send(axum::extract::ws::Message::Text(text.into()))
                                .await;
                            let sent = Instant::now();
                            // Then not a word: no heartbeats, no Pings. Read
                            // until the page gives up on the link.
                            while let Some(Ok(message)) = socket.recv().await {
                                if let axum::extract::ws::Message::Close(_) = message {
                                    break;
                                }
                            }
                            closes.lock().expect("lock").push(sent.elapsed());
                        })
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        SilentServer {
            addr,
            connections,
            silences,
            task,
        }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn quiet_alert() -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "id": "quiet-1", "site": "Kilimanjaro", "severity": "high",
        "message": "Uplink errors rising", "host": null, "source": "zabbix",
        "status": "active", "created_at": now, "updated_at": now,
        "resolved_at": null, "acked_by": null, "acked_at": null,
    })
}

/// The alerts of the screenshot, a plausible evening on a regional network:
/// id | site | severity | host | began this many minutes ago | message.
const SCREENSHOT_ALERTS: &str = "
zbx-48213   | Kilimanjaro   | critical | sw-01.kili          |   3 | Core switch sw-01 unreachable (ICMP loss 100%)
am-1f3c9a2e | Dar es Salaam | critical | bb-r2.dar           |  11 | BGP session to AS33765 down: 41,000 prefixes withdrawn
zbx-48190   | Kampala       | high     | olt-03.kla          |   7 | OLT PON port 1/4 loss of signal: 212 subscribers offline
zbx-48177   | Serengeti     | high     | mw-link-serengeti-b |  26 | Microwave link Serengeti B: RSL -78 dBm below threshold
am-77b0c1d4 | Entebbe       | high     | dns-02.ebb          |  42 | DNS resolver answer time 1.8 s (p95) over 500 ms for 10 min
zbx-48102   | Dar es Salaam | average  | ups-b.dar           |  18 | UPS B on battery: 64% left, about 38 min
zbx-48099   | Kilimanjaro   | average  | gen-01.kili         |  55 | Generator fuel level 22%
am-0c4e5f61 | Kampala       | average  | core-fw.kla         |  74 | Firewall session table 87% full
zbx-48051   | Arusha        | warning  | ap-lobby.aru        |   9 | Wi-Fi AP ap-lobby rebooted 3 times in the last hour
zbx-48033   | Serengeti     | warning  | srv-cam-02          |  95 | Disk /var 91% used on srv-cam-02
am-9a8b7c6d | Entebbe       | warning  | ntp-01.ebb          | 131 | NTP offset 420 ms from pool
zbx-47988   | Mwanza        | warning  | sw-acc-12.mwz       | 168 | Interface Gi0/12 flapping (14 changes in 10 min)
zbx-47950   | Arusha        | info     | rtr-edge.aru        |  35 | Configuration changed by netops (commit 8f2c1e)
am-4d3c2b1a | Dodoma        | info     | lic-srv.dod         | 240 | TLS certificate for portal.dodoma expires in 21 days
";

/// One line of [`SCREENSHOT_ALERTS`].
struct ShotAlert<'a> {
    id: &'a str,
    site: &'a str,
    severity: &'a str,
    host: &'a str,
    minutes_ago: i64,
    message: &'a str,
}

fn screenshot_alerts() -> Vec<ShotAlert<'static>> {
    SCREENSHOT_ALERTS
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.splitn(6, '|').map(str::trim).collect();
            ShotAlert {
                id: f[0],
                site: f[1],
                severity: f[2],
                host: f[3],
                minutes_ago: f[4].parse().expect("minutes"),
                message: f[5],
            }
        })
        .collect()
}

/// Draws the documentation's screenshot of the screen. Ignored by plain
/// `cargo test`; see the top of this file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "redraws docs/browser-screen.png; run with -- --ignored screenshot"]
async fn screenshot() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let out = std::env::var_os("NOC_SCREENSHOT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/browser-screen.png"),
        PathBuf::from,
    );
    let users_dir = tempfile::tempdir().expect("tempdir");
    let users = users_file(users_dir.path());
    let users = users.to_str().expect("utf-8 path");
    let flags = ["--users-file", users];
    let server = TestServer::start(&flags).await;
    let alerts = screenshot_alerts();
    let body: Vec<Value> = alerts
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "site": a.site, "severity": a.severity,
                "host": a.host, "message": a.message, "source": "zabbix",
            })
        })
        .collect();
    server.post_ok(&Value::Array(body)).await;
    ack(&server, "zbx-48177").await;
    ack(&server, "zbx-48102").await;

    // The server stamps alerts with the time it took them; to show a
    // realistic spread of ages, move them into the past in the store while
    // the server is down.
    let (dir, database, addr) = (
        Arc::clone(&server.dir),
        server.database.clone(),
        server.addr,
    );
    server.stop().await;
    backdate(&database, &alerts).await;
    let server = TestServer::start_on(dir, database, &addr.to_string(), &flags).await;

    let browser = Browser::start(&tools).await;
    browser.open(&server, "/?client=wall-1").await;
    let mut ids: Vec<&str> = alerts.iter().map(|a| a.id).collect();
    browser.wait_for_ids("the screenshot's alerts", &ids).await;
    // One critical arriving live, to show how a new one stands out.
    server
        .post_ok(&json!({
            "id": "zbx-48230", "site": "Mwanza", "severity": "critical", "host": "pe-01.mwz",
            "message": "PE router pe-01 CPU 98% for 5 min, control plane drops", "source": "zabbix",
        }))
        .await;
    ids.push("zbx-48230");
    browser.wait_for_ids("the live critical", &ids).await;
    // Catch the pulse on its bright phase.
    browser
        .wait_for(
            "the pulse",
            WAIT,
            "return document.getElementById('alerts').classList.contains('pulse');",
        )
        .await;
    let png = browser.client.screenshot().await.expect("screenshot");
    std::fs::write(&out, &png).unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
    println!("wrote {}", out.display());
    browser.close().await;
    server.stop().await;
}

/// Moves each screenshot alert's times back by its age in minutes.
async fn backdate(database: &str, alerts: &[ShotAlert<'_>]) {
    let pool = sqlx::SqlitePool::connect(database)
        .await
        .expect("open the store");
    let now = chrono::Utc::now().timestamp_millis();
    for alert in alerts {
        let at = now - alert.minutes_ago * 60_000;
        sqlx::query(
            "UPDATE alerts SET created_at = ?, updated_at = ?,
                 acked_at = CASE WHEN acked_at IS NULL THEN NULL ELSE ? END
             WHERE id = ?",
        )
        .bind(at)
        .bind(at)
        .bind(at + 60_000)
        .bind(alert.id)
        .execute(&pool)
        .await
        .expect("backdate an alert");
    }
    pool.close().await;
}
