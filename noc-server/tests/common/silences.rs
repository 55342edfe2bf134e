//! Helpers of the silence tests: a server with a user and a site group,
//! posting silences, reading what screens are told.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use noc_shared::{Alert, EventKind, EventReason, Silence};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::NamedTempFile;

use super::{Screen, TestServer};

pub const USER: &str = "irene-token";

/// A server with one user (`irene@noc.example`, token [`USER`]) and the
/// site group `Tanzania`; reading is open (any token, such as `wall`).
pub async fn server() -> (TestServer, [NamedTempFile; 2]) {
    let files = files();
    let server = TestServer::start(&flags(&files)).await;
    (server, files)
}

/// The users file and the sites file of [`server`].
pub fn files() -> [NamedTempFile; 2] {
    let users = NamedTempFile::new().expect("tempfile");
    std::fs::write(
        users.path(),
        format!("[[user]]\nemail = \"irene@noc.example\"\ntoken = \"{USER}\"\n"),
    )
    .expect("write users");
    let sites = NamedTempFile::new().expect("tempfile");
    std::fs::write(
        sites.path(),
        "[groups]\nTanzania = [\"Kilimanjaro\", \"Serengeti\"]\n",
    )
    .expect("write sites");
    [users, sites]
}

pub fn flags(files: &[NamedTempFile; 2]) -> [&str; 4] {
    fn path(f: &NamedTempFile) -> &str {
        f.path().to_str().expect("utf-8")
    }
    [
        "--users-file",
        path(&files[0]),
        "--sites-file",
        path(&files[1]),
    ]
}

pub async fn post_silence(server: &TestServer, token: &str, body: &Value) -> (StatusCode, Value) {
    let response = server
        .http
        .post(server.url("/api/v1/silences"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("POST /api/v1/silences");
    let status = response.status();
    (status, response.json().await.expect("JSON answer"))
}

/// Posts a valid silence and returns it as answered (201).
pub async fn silence(server: &TestServer, body: Value) -> Silence {
    let (status, answer) = post_silence(server, USER, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    serde_json::from_value(answer).expect("a silence")
}

pub async fn get(server: &TestServer, path: &str) -> (StatusCode, Value) {
    let response = server
        .http
        .get(server.url(path))
        .bearer_auth("wall")
        .send()
        .await
        .expect("GET");
    let status = response.status();
    (status, response.json().await.expect("JSON answer"))
}

pub async fn listed(server: &TestServer, state: &str) -> Vec<String> {
    let (status, answer) = get(server, &format!("/api/v1/silences?state={state}")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let silences: Vec<Silence> = serde_json::from_value(answer).expect("silences");
    silences.into_iter().map(|s| s.id).collect()
}

pub fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `silence`; returns the alerts by id.
pub async fn silence_updates(screen: &mut Screen, n: usize) -> BTreeMap<String, Alert> {
    let mut got = BTreeMap::new();
    while got.len() < n {
        let (kind, event) = screen.next_event().await;
        assert_eq!(
            (kind, event.reason),
            (EventKind::Updated, Some(EventReason::Silence)),
            "{event:?}"
        );
        got.insert(event.alert.id.clone(), event.alert);
    }
    got
}

pub fn silenced_ids(alerts: &[Alert]) -> Vec<&str> {
    let mut ids: Vec<&str> = alerts
        .iter()
        .filter(|a| a.silenced_by.is_some())
        .map(|a| a.id.as_str())
        .collect();
    ids.sort();
    ids
}

/// Waits until `t`.
pub async fn until(t: DateTime<Utc>) {
    if let Ok(d) = (t - Utc::now()).to_std() {
        tokio::time::sleep(d).await;
    }
}
