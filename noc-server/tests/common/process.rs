//! A `noc-server` child process, for the tests that send it signals
//! (SIGHUP, SIGTERM) and read its log.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::{INGEST, Screen, within};

/// A `noc-server` process, for the tests that send it signals.
pub struct Process {
    pub child: tokio::process::Child,
    pub port: u16,
    log: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Process {
    pub async fn start(database: &str, flags: &[String]) -> Process {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_noc-server"))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                database,
            ])
            .args(flags)
            .env("NOC_INGEST_TOKEN", INGEST)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn noc-server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, log) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line);
            }
        });
        Process { child, port, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn screen(&self, query: &str) -> Screen {
        let url = format!("ws://127.0.0.1:{}/ws/alerts?{query}", self.port);
        within("the server to accept", async {
            loop {
                if let Ok((ws, _)) = tokio_tungstenite::connect_async(&url).await {
                    return Screen { ws };
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
    }

    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
    }

    /// The first log line from now on that holds every one of `words`.
    pub async fn log_line(&mut self, words: &[&str]) -> String {
        within("a log line", async {
            loop {
                let line = self.log.recv().await.expect("the server's log");
                if words.iter().all(|w| line.contains(w)) {
                    return line;
                }
            }
        })
        .await
    }
}
