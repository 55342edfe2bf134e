//! A link that goes silent without closing, against a stand-in server.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::WAIT;
use crate::common::within;
use crate::harness::{BANNER, Browser, Tools};
use serde_json::{Value, json};

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
pub struct SilentServer {
    pub addr: std::net::SocketAddr,
    /// WebSocket connections so far.
    connections: Arc<AtomicUsize>,
    /// For each connection the page closed: how long after the snapshot.
    silences: Arc<Mutex<Vec<Duration>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SilentServer {
    async fn start() -> SilentServer {
        SilentServer::start_with(vec![quiet_alert()], SILENT_HEARTBEAT).await
    }

    /// A stand-in whose snapshot holds `alerts` and announces `heartbeat`:
    /// also a way to show the page alerts the real server makes only
    /// slowly (flapping, a write-back that failed).
    pub async fn start_with(alerts: Vec<Value>, heartbeat: Duration) -> SilentServer {
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
                get(|| async { Html(include_str!("../../web/index.html")) }),
            )
            .route(
                "/app.js",
                get(|| async {
                    (
                        [(CONTENT_TYPE, "text/javascript")],
                        include_str!("../../web/app.js"),
                    )
                }),
            )
            .route(
                "/style.css",
                get(|| async {
                    (
                        [(CONTENT_TYPE, "text/css")],
                        include_str!("../../web/style.css"),
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
                    let alerts = alerts.clone();
                    let counter = Arc::clone(&counter);
                    let closes = Arc::clone(&closes);
                    async move {
                        upgrade.on_upgrade(move |mut socket| async move {
                            counter.fetch_add(1, Ordering::SeqCst);
                            let snapshot = json!({
                                "event": "snapshot", "reason": "connect", "seq": 1,
                                "sites": null, "min_severity": "info",
                                "heartbeat_ms": heartbeat.as_millis(),
                                "alerts": alerts, "truncated": false,
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

pub fn quiet_alert() -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "id": "quiet-1", "site": "Kilimanjaro", "severity": "high",
        "message": "Uplink errors rising", "host": null, "source": "zabbix",
        "status": "active", "created_at": now, "updated_at": now,
        "resolved_at": null, "acked_by": null, "acked_at": null,
    })
}
