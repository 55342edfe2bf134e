//! A real Prometheus Alertmanager for the tests, started on a free port
//! and killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

use super::INGEST;

/// Alertmanager's start, its first notification (after `group_wait`) and
/// the resolved one (after `group_interval`) all fit well within this.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The Alertmanager binary: Debian's name first, then upstream's.
pub fn alertmanager_binary() -> Option<PathBuf> {
    super::find_program(&["prometheus-alertmanager", "alertmanager"])
}

/// A running Alertmanager; dropping it kills the process, so that a failed
/// test leaves nothing behind.
pub struct Alertmanager {
    child: Child,
    pub base: String,
    dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        // Kills now; kill_on_drop reaps it when `child` goes.
        let _ = self.child.start_kill();
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl Alertmanager {
    /// Starts Alertmanager on a free port with one webhook receiver,
    /// `webhook`, authorized with the ingest token.
    pub async fn start(binary: &Path, webhook: &str) -> Alertmanager {
        Alertmanager::start_on(binary, webhook, free_port()).await
    }

    /// As [`Alertmanager::start`], on `port` (e.g. the port of one
    /// stopped before, to bring it back).
    pub async fn start_on(binary: &Path, webhook: &str, port: u16) -> Alertmanager {
        Alertmanager::launch(binary, webhook, port, INGEST, "1h").await
    }

    /// As [`Alertmanager::start`], authorized with `token`, and sending a
    /// group that has not changed again every `repeat_interval`.
    pub async fn start_as(
        binary: &Path,
        webhook: &str,
        token: &str,
        repeat_interval: &str,
    ) -> Alertmanager {
        Alertmanager::launch(binary, webhook, free_port(), token, repeat_interval).await
    }

    async fn launch(
        binary: &Path,
        webhook: &str,
        port: u16,
        token: &str,
        repeat_interval: &str,
    ) -> Alertmanager {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  resolve_timeout: 5m\n\
                 route:\n  receiver: noc\n  group_by: ['alertname']\n  group_wait: 1s\n  \
                 group_interval: 1s\n  repeat_interval: {repeat_interval}\n\
                 receivers:\n  - name: noc\n    webhook_configs:\n      - url: '{webhook}'\n        \
                 send_resolved: true\n        http_config:\n          authorization:\n            \
                 type: Bearer\n            credentials: '{token}'\n"
            ),
        )
        .expect("write config");
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
    pub async fn wait_for<T, F, Fut>(&self, what: &str, mut probe: F) -> T
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

    /// Stops Alertmanager and waits until it has exited.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Pushes alerts into Alertmanager's API, as Prometheus does.
    pub async fn push(&self, alerts: &Value) {
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
