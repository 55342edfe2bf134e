//! `--plain` end to end: the built binary against the real server, read
//! line by line from its standard output; the part-two words (`NOTED`,
//! `UNACKED`, `SILENCED`, `EXPIRED`) from the server's own actions, silences
//! and expiry.

mod common;

use std::process::Stdio;

use common::{Server, alert, terminate, within};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    within("a line on stdout", lines.next_line())
        .await
        .expect("readable")
        .expect("stdout still open")
}

fn start(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_noc-tui"))
        .args(args)
        .env_remove("NOC_URL")
        .env_remove("NOC_SITES")
        .env_remove("NOC_TOKEN")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start noc-tui")
}

/// `<time> <WORD> <site> <message>`, with an RFC 3339 UTC time.
fn assert_line(line: &str, word: &str, site: &str, message: &str) {
    let (time, rest) = line.split_once(' ').expect("a time first");
    assert!(
        chrono::DateTime::parse_from_rfc3339(time).is_ok() && time.ends_with('Z'),
        "time in {line:?}"
    );
    assert_eq!(rest, format!("{word} {site} {message}"), "{line:?}");
}

#[tokio::test]
async fn plain_mode_writes_one_line_per_alert_and_event() {
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("tempdir"));
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        "[[user]]\nemail = \"irene@noc.example\"\ntoken = \"user-token\"\n",
    )
    .expect("users file");
    let users = users.display().to_string();
    let server = Server::start_on(dir, "127.0.0.1:0", &["--users-file", &users]).await;
    server
        .post(&alert("snap", "Dar es Salaam", "average"))
        .await;
    server.post(&alert("other", "Kampala", "critical")).await;

    let base = server.base();
    let mut child = start(&[
        "--plain",
        "--url",
        &base,
        "--sites",
        "Dar es Salaam",
        "--name",
        "plain-e2e",
    ]);
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    assert_line(
        &next_line(&mut lines).await,
        "AVERAGE",
        "Dar es Salaam",
        "snap at Dar es Salaam",
    );

    server
        .post(&alert("live", "Dar es Salaam", "critical"))
        .await;
    // Not for this screen's site: must not show up.
    server.post(&alert("away", "Kampala", "critical")).await;
    assert_line(
        &next_line(&mut lines).await,
        "CRITICAL",
        "Dar es Salaam",
        "live at Dar es Salaam",
    );

    let ack = within(
        "the ack",
        server
            .http
            .post(format!("{base}/api/v1/alerts/live/ack"))
            .bearer_auth("user-token")
            .send(),
    )
    .await
    .expect("POST ack");
    assert_eq!(ack.status(), 200);
    assert_line(
        &next_line(&mut lines).await,
        "ACKED",
        "Dar es Salaam",
        "live at Dar es Salaam",
    );

    server
        .post(&serde_json::json!({"id": "live", "event": "alert.resolved"}))
        .await;
    assert_line(
        &next_line(&mut lines).await,
        "RESOLVED",
        "Dar es Salaam",
        "live at Dar es Salaam",
    );

    // SIGTERM, as systemd or a log shipper would stop it: a clean exit 0.
    terminate(&mut child).await;
    // Nothing else was written: the Kampala alerts never reached this screen
    // and the subscribe snapshot did not repeat the first one.
    assert_eq!(lines.next_line().await.expect("readable"), None);
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(child.stderr.as_mut().expect("piped"), &mut stderr)
        .await
        .expect("stderr");
    assert!(
        stderr.contains(&format!("connected to ws://{}/ws/alerts", server.addr)),
        "{stderr}"
    );
    server.stop().await;
}

/// A user's POST to `path` with `body`, expecting a 2xx.
async fn act(server: &Server, path: &str, body: serde_json::Value) {
    let response = within(
        path,
        server
            .http
            .post(format!("{}{path}", server.base()))
            .bearer_auth("user-token")
            .json(&body)
            .send(),
    )
    .await
    .expect("POST");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
}

#[tokio::test]
async fn plain_mode_says_noted_unacked_silenced_and_expired() {
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("tempdir"));
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        "[[user]]\nemail = \"irene@noc.example\"\ntoken = \"user-token\"\n",
    )
    .expect("users file");
    let users = users.display().to_string();
    let server = Server::start_on(dir, "127.0.0.1:0", &["--users-file", &users]).await;
    let mut child = start(&["--plain", "--url", &server.base(), "--name", "plain-words"]);
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    server.post(&alert("w", "Kampala", "high")).await;
    assert_line(
        &next_line(&mut lines).await,
        "HIGH",
        "Kampala",
        "w at Kampala",
    );

    let base = "/api/v1/alerts/w";
    act(
        &server,
        &format!("{base}/ack"),
        serde_json::json!({"note": "on it"}),
    )
    .await;
    assert_line(
        &next_line(&mut lines).await,
        "ACKED",
        "Kampala",
        "w at Kampala",
    );
    act(
        &server,
        &format!("{base}/notes"),
        serde_json::json!({"text": "crew sent"}),
    )
    .await;
    assert_line(
        &next_line(&mut lines).await,
        "NOTED",
        "Kampala",
        "w at Kampala",
    );
    act(&server, &format!("{base}/unack"), serde_json::json!({})).await;
    assert_line(
        &next_line(&mut lines).await,
        "UNACKED",
        "Kampala",
        "w at Kampala",
    );

    // A silence of the site for 1 s: SILENCED, then the severity again.
    act(
        &server,
        "/api/v1/silences",
        serde_json::json!({
            "matchers": [{"name": "site", "op": "=", "value": "Kampala"}],
            "duration": "1s",
            "comment": "works",
        }),
    )
    .await;
    assert_line(
        &next_line(&mut lines).await,
        "SILENCED",
        "Kampala",
        "w at Kampala",
    );
    assert_line(
        &next_line(&mut lines).await,
        "HIGH",
        "Kampala",
        "w at Kampala",
    );

    // An alert with a ttl of 1 s resolves by itself: EXPIRED.
    let mut short = alert("t", "Kampala", "warning");
    short["ttl"] = serde_json::json!(1);
    server.post(&short).await;
    assert_line(
        &next_line(&mut lines).await,
        "WARNING",
        "Kampala",
        "t at Kampala",
    );
    assert_line(
        &next_line(&mut lines).await,
        "EXPIRED",
        "Kampala",
        "t at Kampala",
    );

    terminate(&mut child).await;
    server.stop().await;
}
