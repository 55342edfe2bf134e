//! `--sources-file`: each source posts with its own token, names its
//! alerts, owns them (another source gets 409), and its Alertmanager
//! Watchdog is a sign of life, never an alert. A real server, real HTTP.

mod common;

use common::process::Process;
use common::{INGEST, TestServer, alert};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Two Zabbix servers and an Alertmanager, each with its own token.
pub const SOURCES: &str = r#"
[[source]]
name = "zabbix-dc1"
kind = "zabbix"
token = "dc1-token"

[[source]]
name = "zabbix-dc2"
kind = "zabbix"
token_sha256 = "d6f2ad1b0dc8d54e1f5bd5e4c10d0cf4a5f9a5bf8f7c3f7ff8eb0b5d0b1d0c2e"

[[source]]
name = "prom"
kind = "alertmanager"
token = "prom-token"
watchdog = "DeadMansSwitch"
"#;

/// `zabbix-dc2`'s token, kept in the file only as its SHA-256.
const DC2: &str = "dc2-token";

/// A server with `text` as its sources file (kept in the returned dir).
async fn server_with(text: &str) -> (TestServer, TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sources.toml");
    std::fs::write(&path, text).expect("write sources.toml");
    let path = path.to_str().expect("utf-8 path").to_owned();
    (TestServer::start(&["--sources-file", &path]).await, dir)
}

fn sources_text() -> String {
    use sha2::{Digest, Sha256};
    let dc2 = hex::encode(Sha256::digest(DC2.as_bytes()));
    SOURCES.replace(
        "d6f2ad1b0dc8d54e1f5bd5e4c10d0cf4a5f9a5bf8f7c3f7ff8eb0b5d0b1d0c2e",
        &dc2,
    )
}

async fn post_as(
    server: &TestServer,
    token: &str,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let response = server
        .http
        .post(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn each_source_posts_with_its_own_token_and_names_its_alerts() {
    let (server, _dir) = server_with(&sources_text()).await;
    let mut body = alert("zbx-1", "Kilimanjaro", "critical");
    body["source"] = json!("whatever-the-body-says");

    let (status, stored) = post_as(&server, "dc1-token", "/internal/alerts", &body).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        stored["source"], "zabbix-dc1",
        "the source's name, not the body's"
    );

    // A token given only as its hash works too.
    let (status, stored) = post_as(
        &server,
        DC2,
        "/internal/alerts",
        &alert("zbx-2", "Serengeti", "warning"),
    )
    .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["source"], "zabbix-dc2");

    // The ingest token is the source `webhook`, and keeps the body's name.
    body["id"] = json!("hook-1");
    let (status, stored) = post_as(&server, INGEST, "/internal/alerts", &body).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["source"], "whatever-the-body-says");

    let (status, answer) = post_as(&server, "no-such-token", "/internal/alerts", &body).await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer["error"].is_string());
}

#[tokio::test]
async fn a_source_may_not_write_another_sources_alert() {
    let (server, _dir) = server_with(&sources_text()).await;
    let body = alert("zbx-48213", "Kilimanjaro", "critical");
    let (status, _) = post_as(&server, "dc1-token", "/internal/alerts", &body).await;
    assert_eq!(status, 200);

    let mut update = body.clone();
    update["message"] = json!("taken over");
    let (status, answer) = post_as(&server, DC2, "/internal/alerts", &update).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        answer["error"],
        "alert zbx-48213 belongs to source zabbix-dc1"
    );
    let resolve = json!({ "id": "zbx-48213", "event": "alert.resolved" });
    let (status, _) = post_as(&server, DC2, "/internal/alerts", &resolve).await;
    assert_eq!(status, 409, "nor resolve it");
    assert_eq!(server.stored("zbx-48213").await.message, body["message"]);

    // Its own source still may.
    let (status, stored) = post_as(&server, "dc1-token", "/internal/alerts", &resolve).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["status"], "resolved");
}

#[tokio::test]
async fn an_array_refused_by_its_last_entry_leaves_no_trace() {
    let (server, _dir) = server_with(&sources_text()).await;
    let taken = alert("zbx-77", "Kilimanjaro", "critical");
    let (status, _) = post_as(&server, "dc1-token", "/internal/alerts", &taken).await;
    assert_eq!(status, 200);
    let seq = server.last_seq().await;

    // The first entry is a new alert of dc2's; the second is dc1's.
    let fresh = alert("zbx-78", "Serengeti", "warning");
    let array = json!([fresh.clone(), taken]);
    let (status, answer) = post_as(&server, DC2, "/internal/alerts", &array).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(server.last_seq().await, seq, "no event numbered");
    let unknown = server.http.get(server.url("/api/v1/alerts/zbx-78"));
    assert_eq!(unknown.send().await.expect("GET").status(), 404);

    // Posted alone, it has one line of history, the next seq: nothing of
    // the refused array was kept.
    let (status, _) = post_as(&server, DC2, "/internal/alerts", &fresh).await;
    assert_eq!(status, 200);
    let history = server.get_json("/api/v1/alerts/zbx-78/history").await;
    let lines = history.as_array().expect("a list");
    assert_eq!(lines.len(), 1, "{history}");
    assert_eq!(lines[0]["event"], "alert.created");
    assert_eq!(lines[0]["seq"], seq + 1, "{history}");
}

/// An Alertmanager webhook of `alerts` (label maps), all firing.
fn am_body(alerts: &[Value]) -> Value {
    let alerts: Vec<Value> = alerts
        .iter()
        .enumerate()
        .map(|(i, labels)| {
            json!({
                "status": "firing", "labels": labels, "annotations": {},
                "startsAt": "2026-11-30T10:00:00Z", "fingerprint": format!("fp{i}"),
            })
        })
        .collect();
    json!({ "version": "4", "status": "firing", "receiver": "noc", "alerts": alerts })
}

#[tokio::test]
async fn the_watchdog_is_a_sign_of_life_never_an_alert() {
    let (server, _dir) = server_with(&sources_text()).await;
    let body = am_body(&[
        json!({ "alertname": "DeadMansSwitch", "severity": "none" }),
        json!({ "alertname": "NodeDown", "site": "*", "severity": "critical" }),
    ]);
    let (status, stored) = post_as(&server, "prom-token", "/internal/alertmanager", &body).await;
    assert_eq!(status, 200, "{stored}");
    let stored = stored.as_array().expect("an array");
    assert_eq!(stored.len(), 1, "the watchdog is not stored: {stored:?}");
    assert_eq!(stored[0]["source"], "prom");
    assert_eq!(stored[0]["site"], "unknown", "`*` from a source is unknown");

    // A body of the watchdog alone: 200, nothing stored.
    let only = am_body(&[json!({ "alertname": "DeadMansSwitch" })]);
    let (status, stored) = post_as(&server, "prom-token", "/internal/alertmanager", &only).await;
    assert_eq!((status.as_u16(), stored), (200, json!([])));
    assert_eq!(server.alerts_in_store().await, 1);
}

#[tokio::test]
async fn a_bad_sources_file_stops_the_start_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sources.toml");
    std::fs::write(
        &path,
        "[[source]]\nname = \"ok\"\nkind = \"zabbix\"\ntoken = \"a\"\n\n[[source]]\nname = \"Bad Name\"\nkind = \"zabbix\"\ntoken = \"b\"\n",
    )
    .expect("write");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_noc-server"))
        .args(["--listen", "127.0.0.1:0", "--sources-file"])
        .arg(&path)
        .arg("--database")
        .arg(format!("sqlite://{}", dir.path().join("noc.db").display()))
        .output()
        .await
        .expect("run noc-server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("sources file {}: line 6", path.display())),
        "{stderr}"
    );
}

#[tokio::test]
async fn sighup_reads_the_sources_again_and_a_bad_file_keeps_the_old() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = common::fresh_database(&dir).await;
    let path = dir.path().join("sources.toml");
    let source = |token: &str| {
        format!("[[source]]\nname = \"dc1\"\nkind = \"zabbix\"\ntoken = \"{token}\"\n")
    };
    std::fs::write(&path, source("old-token")).expect("write");
    let flags = vec!["--sources-file".to_owned(), path.display().to_string()];
    let mut server = Process::start(&database, &flags).await;
    let mut screen = server.screen("").await;
    screen.snapshot().await;
    let url = server.url("/internal/alerts");
    let post = |token: &'static str, id: &'static str| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&alert(id, "Kilimanjaro", "warning"))
                .send()
                .await
                .expect("POST")
                .status()
        }
    };
    assert_eq!(post("old-token", "a-1").await, 200);

    std::fs::write(&path, source("new-token")).expect("rewrite");
    server.signal("HUP");
    server.log_line(&["sources.toml", "read again"]).await;
    assert_eq!(post("new-token", "a-2").await, 200);
    assert_eq!(post("old-token", "a-3").await, 401);

    // Line 4 does not parse: refused, named, and the old sources stay.
    std::fs::write(
        &path,
        "[[source]]\nname = \"dc1\"\nkind = \"zabbix\"\ntoken = \n",
    )
    .expect("rewrite");
    server.signal("HUP");
    let line = server.log_line(&["sources.toml", "line 4"]).await;
    assert!(line.contains("refused"), "{line}");
    assert_eq!(post("new-token", "a-4").await, 200);

    // The screen stayed connected through both: it hears every alert, in
    // order, the last one included.
    for id in ["a-1", "a-2", "a-4"] {
        assert_eq!(screen.next_alert().await.1.id, id);
    }
    server.signal("TERM");
    let status = common::within("the server to exit", server.child.wait()).await;
    assert!(status.expect("exit status").success());
    common::drop_postgres_database(&database).await;
}

#[tokio::test]
async fn a_source_taken_out_of_the_file_has_its_silent_alert_resolved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = common::fresh_database(&dir).await;
    let path = dir.path().join("sources.toml");
    let watched =
        "[[source]]\nname = \"dc1\"\nkind = \"zabbix\"\ntoken = \"t\"\nheartbeat = \"1s\"\n";
    std::fs::write(&path, watched).expect("write");
    let flags = vec!["--sources-file".to_owned(), path.display().to_string()];
    let mut server = Process::start(&database, &flags).await;
    let mut screen = server.screen("").await;
    screen.snapshot().await;
    let (kind, alert) = screen.next_alert().await;
    assert_eq!(
        (kind, alert.id.as_str()),
        (noc_shared::EventKind::Created, "source-silent-dc1")
    );

    // No longer watched: the alert goes, it does not stay up for ever.
    std::fs::write(&path, watched.replace("heartbeat = \"1s\"\n", "")).expect("rewrite");
    server.signal("HUP");
    let (kind, alert) = screen.next_alert().await;
    assert_eq!(
        (kind, alert.id.as_str()),
        (noc_shared::EventKind::Resolved, "source-silent-dc1")
    );
    server.signal("TERM");
    let status = common::within("the server to exit", server.child.wait()).await;
    assert!(status.expect("exit status").success());
    common::drop_postgres_database(&database).await;
}
