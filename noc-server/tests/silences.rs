//! Silences through the real server: what a silence may hold (422s that
//! say what to fix), its life (pending, active, expired, ended by DELETE),
//! and what it does to the alerts it matches on live screens. Runs on
//! SQLite, and on PostgreSQL with `NOC_TEST_STORE=postgres`.

mod common;

use chrono::{DateTime, Utc};
use common::{TestServer, within};
use noc_shared::{Silence, SilenceState};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::NamedTempFile;

const USER: &str = "irene-token";

/// A server with one user (`irene@noc.example`, token [`USER`]), a
/// viewer token `wall` and the site group `Tanzania`.
async fn server() -> (TestServer, [NamedTempFile; 2]) {
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
    let server = TestServer::start(&[
        "--users-file",
        users.path().to_str().expect("utf-8"),
        "--sites-file",
        sites.path().to_str().expect("utf-8"),
        "--viewer-token",
        "wall",
    ])
    .await;
    (server, [users, sites])
}

async fn post_silence(server: &TestServer, token: &str, body: &Value) -> (StatusCode, Value) {
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
async fn silence(server: &TestServer, body: Value) -> Silence {
    let (status, answer) = post_silence(server, USER, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    serde_json::from_value(answer).expect("a silence")
}

async fn get(server: &TestServer, path: &str) -> (StatusCode, Value) {
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

async fn listed(server: &TestServer, state: &str) -> Vec<String> {
    let (status, answer) = get(server, &format!("/api/v1/silences?state={state}")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let silences: Vec<Silence> = serde_json::from_value(answer).expect("silences");
    silences.into_iter().map(|s| s.id).collect()
}

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[tokio::test]
async fn refusals_say_what_to_fix_and_store_nothing() {
    let (server, _files) = server().await;
    let site = json!([{"name": "site", "op": "=", "value": "Kilimanjaro"}]);
    let now = Utc::now();
    let cases = [
        (
            json!({"duration": "1h", "comment": "c"}),
            "matchers is required",
        ),
        (
            json!({"matchers": [{"name": "hostname", "op": "=", "value": "x"}], "duration": "1h", "comment": "c"}),
            "is not one of site, host",
        ),
        (
            json!({"matchers": [{"name": "host", "op": "~", "value": "x"}], "duration": "1h", "comment": "c"}),
            "matcher at index 0",
        ),
        (
            json!({"matchers": [{"name": "host", "op": "=~", "value": "sw-(01"}], "duration": "1h", "comment": "c"}),
            "does not compile",
        ),
        (
            json!({"matchers": [{"name": "severity", "op": "=", "value": "urgent"}], "duration": "1h", "comment": "c"}),
            "severity",
        ),
        (
            json!({"matchers": [{"name": "host", "op": "=", "value": "x".repeat(1025)}], "duration": "1h", "comment": "c"}),
            "longer than 1024",
        ),
        (
            json!({"matchers": [{"name": "site", "op": "!=", "value": "Kilimanjaro"}], "duration": "1h", "comment": "c"}),
            "at least one matcher",
        ),
        (
            json!({"matchers": [{"name": "site", "op": "=~", "value": ".*"}], "duration": "1h", "comment": "c"}),
            "at least one matcher",
        ),
        (
            json!({"matchers": [{"name": "site", "op": "=~", "value": ".+"}], "duration": "1h", "comment": "c"}),
            "at least one matcher",
        ),
        (
            json!({"matchers": site, "comment": "c"}),
            "ends_at (RFC 3339) or duration",
        ),
        (
            json!({"matchers": site, "duration": "1h", "ends_at": at(now + chrono::Duration::hours(2)), "comment": "c"}),
            "not both",
        ),
        (
            json!({"matchers": site, "duration": "soon", "comment": "c"}),
            "duration",
        ),
        (
            json!({"matchers": site, "starts_at": at(now + chrono::Duration::hours(2)), "ends_at": at(now + chrono::Duration::hours(1)), "comment": "c"}),
            "after starts_at",
        ),
        (
            json!({"matchers": site, "duration": "91d", "comment": "c"}),
            "at most 90 days",
        ),
        (
            json!({"matchers": site, "ends_at": "yesterday", "comment": "c"}),
            "RFC 3339",
        ),
        (
            json!({"matchers": site, "duration": "1h"}),
            "comment is required",
        ),
        (
            json!({"matchers": site, "duration": "1h", "comment": " "}),
            "comment is required",
        ),
    ];
    for (body, says) in cases {
        let (status, answer) = post_silence(&server, USER, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        let error = answer["error"].as_str().expect("an error message");
        assert!(
            error.contains(says),
            "{body}: {error:?} should say {says:?}"
        );
    }
    // Only a user may silence; the viewer token reads.
    let good = json!({"matchers": site, "duration": "1h", "comment": "c"});
    for token in ["wall", common::INGEST, "nobody"] {
        let (status, _) = post_silence(&server, token, &good).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
    }
    assert!(listed(&server, "all").await.is_empty());
    server.stop_and_drop_database().await;
}

#[tokio::test]
async fn a_silence_is_pending_then_active_and_delete_ends_it() {
    let (server, _files) = server().await;
    let now = Utc::now();
    let pending = silence(
        &server,
        json!({"matchers": [{"name": "site", "op": "=", "value": "tanzania"}],
               "starts_at": at(now + chrono::Duration::hours(1)), "duration": "2h",
               "comment": "fibre works"}),
    )
    .await;
    assert!(pending.id.starts_with("s-"), "{}", pending.id);
    assert_eq!(pending.state, SilenceState::Pending);
    assert_eq!(pending.created_by, "irene@noc.example");
    assert_eq!(
        pending.ends_at - pending.starts_at,
        chrono::Duration::hours(2)
    );
    let active = silence(
        &server,
        json!({"matchers": [{"name": "host", "op": "=~", "value": "sw-0[12]"},
                            {"name": "labels.team", "op": "!=", "value": "core"}],
               "ends_at": at(now + chrono::Duration::minutes(30)), "comment": "reboot"}),
    )
    .await;
    assert_eq!(active.state, SilenceState::Active);

    assert_eq!(listed(&server, "active").await, vec![active.id.clone()]);
    assert_eq!(
        listed(&server, "").await,
        vec![active.id.clone()],
        "active is the default"
    );
    assert_eq!(listed(&server, "pending").await, vec![pending.id.clone()]);
    assert!(listed(&server, "expired").await.is_empty());
    let (status, one) = get(&server, &format!("/api/v1/silences/{}", pending.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_value::<Silence>(one).expect("silence"),
        pending
    );
    let (status, answer) = get(&server, "/api/v1/silences?state=over").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, _) = get(&server, "/api/v1/silences/s-nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // DELETE ends both now; they stay listed as expired, and ending one
    // again changes nothing.
    for s in [&active, &pending] {
        let url = server.url(&format!("/api/v1/silences/{}", s.id));
        let response = server
            .http
            .delete(&url)
            .bearer_auth("wall")
            .send()
            .await
            .expect("DELETE");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = server
            .http
            .delete(&url)
            .bearer_auth(USER)
            .send()
            .await
            .expect("DELETE");
        assert_eq!(response.status(), StatusCode::OK);
        let ended: Silence = response.json().await.expect("silence");
        assert_eq!(ended.state, SilenceState::Expired);
        assert!(ended.ends_at <= Utc::now() && ended.starts_at <= ended.ends_at);
        let again: Silence = within(
            "DELETE again",
            server.http.delete(&url).bearer_auth(USER).send(),
        )
        .await
        .expect("DELETE")
        .json()
        .await
        .expect("silence");
        assert_eq!(again.ends_at, ended.ends_at);
    }
    assert!(listed(&server, "active").await.is_empty());
    assert!(listed(&server, "pending").await.is_empty());
    let mut expired = listed(&server, "expired").await;
    expired.sort();
    assert_eq!(expired, [pending.id.clone(), active.id.clone()]);
    assert_eq!(listed(&server, "all").await.len(), 2);
    let response = server
        .http
        .delete(server.url("/api/v1/silences/s-nope"))
        .bearer_auth(USER)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.stop_and_drop_database().await;
}
