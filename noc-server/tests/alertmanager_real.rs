//! A real Prometheus Alertmanager, configured with a webhook receiver that
//! points at the server: an alert pushed into its API lands with the right
//! fields, and its resolution resolves it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use common::{INGEST, Screen, TestServer, find_program, skip_or_fail};
use noc_shared::{Alert, EventKind, Severity, Status};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// Alertmanager's start, its first notification (after `group_wait`) and
/// the resolved one (after `group_interval`) all fit well within this.
const PATIENCE: Duration = Duration::from_secs(30);

/// The Alertmanager binary: Debian's name first, then upstream's.
fn alertmanager_binary() -> Option<PathBuf> {
    find_program(&["prometheus-alertmanager", "alertmanager"])
}

/// A running Alertmanager; dropping it kills the process, so that a failed
/// test leaves nothing behind.
struct Alertmanager {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        // Kills now; kill_on_drop reaps it when `child` goes.
        let _ = self.child.start_kill();
    }
}

impl Alertmanager {
    /// Starts Alertmanager on a free port with one webhook receiver,
    /// `webhook`, authorized with the ingest token.
    async fn start(binary: &Path, webhook: &str) -> Alertmanager {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  resolve_timeout: 5m\n\
                 route:\n  receiver: noc\n  group_by: ['alertname']\n  group_wait: 1s\n  \
                 group_interval: 1s\n  repeat_interval: 1h\n\
                 receivers:\n  - name: noc\n    webhook_configs:\n      - url: '{webhook}'\n        \
                 send_resolved: true\n        http_config:\n          authorization:\n            \
                 type: Bearer\n            credentials: '{INGEST}'\n"
            ),
        )
        .expect("write config");
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).expect("log file");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Empty: no cluster, no gossip port.
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start alertmanager");
        let am = Alertmanager {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let http = reqwest::Client::new();
        am.wait_for("Alertmanager to be ready", || async {
            http.get(format!("{}/-/ready", am.base))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())
                .map(|_| ())
        })
        .await;
        am
    }

    /// Polls `probe` until it gives a value, for at most [`PATIENCE`];
    /// fails with Alertmanager's log otherwise.
    async fn wait_for<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let polled = tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(value) = probe().await {
                    return value;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        polled.unwrap_or_else(|_| {
            let log = std::fs::read_to_string(self.dir.path().join("alertmanager.log"))
                .unwrap_or_default();
            panic!("timed out waiting for {what}; Alertmanager's log:\n{log}")
        })
    }

    /// Pushes alerts into Alertmanager's API, as Prometheus does.
    async fn push(&self, alerts: &Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.base))
            .json(alerts)
            .send()
            .await
            .expect("POST /api/v2/alerts");
        assert!(
            response.status().is_success(),
            "Alertmanager refused the alerts: {}",
            response.text().await.unwrap_or_default()
        );
    }
}

async fn stored(server: &TestServer, id: &str) -> Option<Alert> {
    let response = server
        .http
        .get(server.url(&format!("/api/v1/alerts/{id}")))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

fn link_down(ends_at: Option<String>) -> Value {
    let mut alert = json!({
        "labels": {
            "alertname": "LinkDown", "job": "snmp", "site": "Kilimanjaro",
            "severity": "critical", "instance": "rtr-01.kili:9116"
        },
        "annotations": {
            "summary": "Uplink rtr-01 to Arusha is down",
            "description": "ifOperStatus of Gi0/1 has been down for 2 minutes."
        },
        "startsAt": (Utc::now() - chrono::Duration::minutes(2))
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        "generatorURL": "http://prometheus.kili:9090/graph?g0.expr=ifOperStatus"
    });
    if let (Some(ends_at), Some(map)) = (ends_at, alert.as_object_mut()) {
        map.insert("endsAt".into(), Value::String(ends_at));
    }
    json!([alert])
}

#[tokio::test]
async fn alert_pushed_into_alertmanager_lands_and_resolves() {
    let Some(binary) = alertmanager_binary() else {
        skip_or_fail(
            "NOC_REQUIRE_ALERTMANAGER",
            "Alertmanager (prometheus-alertmanager)",
        );
        return;
    };
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("sites=Kilimanjaro")).await;
    screen.snapshot().await;
    let am = Alertmanager::start(&binary, &server.url("/internal/alertmanager")).await;

    am.push(&link_down(None)).await;
    // Alertmanager's own identity of the alert, which the id must carry.
    let http = reqwest::Client::new();
    let fingerprint: String = am
        .wait_for("the alert in Alertmanager", || async {
            let alerts: Value = http
                .get(format!("{}/api/v2/alerts", am.base))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            alerts
                .as_array()?
                .iter()
                .find(|a| a["labels"]["alertname"] == "LinkDown")?["fingerprint"]
                .as_str()
                .map(str::to_owned)
        })
        .await;
    let id = format!("am-{fingerprint}");

    let alert = am
        .wait_for("the alert on the server", || stored(&server, &id))
        .await;
    assert_eq!(
        (
            alert.site.as_str(),
            alert.severity,
            alert.message.as_str(),
            alert.host.as_deref(),
            alert.source.as_str(),
            alert.status,
        ),
        (
            "Kilimanjaro",
            Severity::Critical,
            "Uplink rtr-01 to Arusha is down",
            Some("rtr-01.kili:9116"),
            "alertmanager",
            Status::Active,
        )
    );
    let msg = screen.next().await;
    let (kind, event) = msg.as_alert_event().expect("an alert event");
    assert_eq!(
        (kind, event.alert.id.as_str()),
        (EventKind::Created, id.as_str())
    );

    // Prometheus tells Alertmanager the alert has ended.
    let ended =
        (Utc::now() - chrono::Duration::seconds(1)).to_rfc3339_opts(SecondsFormat::Millis, true);
    am.push(&link_down(Some(ended))).await;
    let resolved = am
        .wait_for("the alert to be resolved on the server", || async {
            stored(&server, &id)
                .await
                .filter(|a| a.status == Status::Resolved)
        })
        .await;
    assert_eq!(resolved.message, "Uplink rtr-01 to Arusha is down");
    assert_eq!(resolved.created_at, alert.created_at);
    // Alertmanager may send the unchanged group again before it resolves;
    // each is an update of the same alert, and the last event resolves it.
    loop {
        let msg = screen.next().await;
        let (kind, event) = msg.as_alert_event().expect("an alert event");
        assert_eq!(event.alert.id, id, "one alert, never a second one");
        match kind {
            EventKind::Resolved => break,
            EventKind::Updated => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    let all = server.get_json("/api/v1/alerts?status=all").await;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
    drop(am);
    server.stop().await;
}
