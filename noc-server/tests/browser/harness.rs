//! The harness of the browser tests: ChromeDriver and Chromium, a
//! session on a 1080p viewport, and helpers to read the page.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::WAIT;
use crate::common::{TestServer, find_program, skip_or_fail};
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The exact words of the banner, from the protocol.
pub const BANNER: &str = "Disconnected — reconnecting…";
/// A live alert must be on screen this soon after the server took it.
pub const LIVE_WITHIN: Duration = Duration::from_secs(2);
/// Short, so that three silent intervals (a dead link) pass quickly.
pub const HEARTBEAT: &str = "500ms";
pub const OPERATOR_EMAIL: &str = "irene@sprinttz.example";
pub const OPERATOR_TOKEN: &str = "operator-secret";

/// What a message from a hostile monitoring system looks like.
pub const HOSTILE: &str = "<img src=x onerror=alert(1)> disk <b>bold</b> & \"quoted\"";

/// Chromium and ChromeDriver, where they are installed.
pub struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Tools {
    /// Looks on `PATH` only: the test installs nothing.
    pub fn find() -> Option<Tools> {
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
    pub fn or_skip() -> Option<Tools> {
        let tools = Tools::find();
        if tools.is_none() {
            skip_or_fail("NOC_REQUIRE_BROWSER", "chromium or chromedriver");
        }
        tools
    }
}

/// A port that was free a moment ago, for ChromeDriver to listen on.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// A running ChromeDriver with its own Chromium profile. Dropping it kills
/// ChromeDriver and the browser it started, also when a test fails.
pub struct Driver {
    child: Child,
    port: u16,
    /// The fresh, empty profile; removed after the processes are gone.
    profile: TempDir,
}

impl Driver {
    pub fn spawn(tools: &Tools) -> Driver {
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

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until ChromeDriver says it is ready for a session.
    pub async fn ready(&mut self) {
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
pub struct Browser {
    pub client: Client,
    /// Dropped after `client`: kills the processes behind it.
    _driver: Driver,
}

impl Browser {
    pub async fn start(tools: &Tools) -> Browser {
        Browser::start_with(tools, &[]).await
    }

    /// A session with Chromium flags beyond the usual ones.
    pub async fn start_with(tools: &Tools, extra: &[&str]) -> Browser {
        let mut driver = Driver::spawn(tools);
        driver.ready().await;
        let mut args = vec![
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
        args.extend(extra.iter().map(|a| (*a).to_string()));
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
    pub async fn size_viewport(&self, width: u32, height: u32) {
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

    pub async fn open(&self, server: &TestServer, path: &str) {
        self.client
            .goto(&server.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Runs `script` (a function body that `return`s) in the page.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns something other than `null` or
    /// `false`, and returns that; fails after `limit`.
    pub async fn wait_for(&self, what: &str, limit: Duration, script: &str) -> Value {
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
    pub async fn ids(&self) -> Vec<String> {
        let ids = self
            .js("return [...document.querySelectorAll('#alerts > li')].map(r => r.dataset.id);")
            .await;
        serde_json::from_value(ids).expect("a list of ids")
    }

    /// Waits until the page is live and shows exactly `expected`, in any
    /// order.
    pub async fn wait_for_ids(&self, what: &str, expected: &[&str]) {
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
    pub async fn assert_no_dialog(&self) {
        match self.client.get_alert_text().await {
            Err(e) if e.is_no_such_alert() => {}
            Ok(text) => panic!("a dialog opened: {text:?}"),
            Err(e) => panic!("cannot ask for dialogs: {e}"),
        }
    }

    /// Clicks the element `css` with a real (trusted) click.
    pub async fn click(&self, css: &str) {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Types `text` into the element `css`, as keys.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn close(self) {
        let Browser { client, _driver } = self;
        let _ = tokio::time::timeout(WAIT, client.close()).await;
    }
}

/// What the page shows, for a failing test's message.
pub const PAGE_STATE: &str = "return {
    link: document.body.dataset.link,
    banner: document.getElementById('banner').hidden ? null : document.getElementById('banner').textContent,
    rows: [...document.querySelectorAll('#alerts > li')].map(r => r.dataset.id + ' ' + r.className),
};";

/// The CSS selector of the row of alert `id`.
pub fn row(id: &str) -> String {
    format!(
        "#alerts > li[data-id={}]",
        serde_json::to_string(id).expect("json")
    )
}

/// A users file with one operator, for acknowledgements.
pub fn users_file(dir: &Path) -> PathBuf {
    let path = dir.join("users.toml");
    std::fs::write(
        &path,
        format!("[[user]]\nemail = \"{OPERATOR_EMAIL}\"\ntoken = \"{OPERATOR_TOKEN}\"\n"),
    )
    .expect("write users file");
    path
}

pub fn alert(id: &str, site: &str, severity: &str, message: &str) -> Value {
    json!({ "id": id, "site": site, "severity": severity, "message": message, "host": format!("{id}.example") })
}

pub async fn ack(server: &TestServer, id: &str) {
    let response = server
        .http
        .post(server.url(&format!("/api/v1/alerts/{id}/ack")))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .expect("POST ack");
    assert_eq!(response.status(), 200, "ack {id}");
}

pub async fn resolve(server: &TestServer, id: &str) {
    server
        .post_ok(&json!({ "id": id, "event": "alert.resolved" }))
        .await;
}
