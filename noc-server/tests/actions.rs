//! The operators' actions on a real server with live screens: ack with a
//! note and an expiry (which lapses, across a restart too), unack, notes,
//! history, and what is refused.

mod common;

use std::sync::Arc;

use common::{Screen, TestServer, alert};
use noc_shared::{EventKind, EventReason, HistoryEntry, Note};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::NamedTempFile;

const USER: &str = "irene@noc.example";
const TOKEN: &str = "irene-token";

fn users_file() -> NamedTempFile {
    let file = NamedTempFile::new().expect("tempfile");
    std::fs::write(
        file.path(),
        format!("[[user]]\nemail = \"{USER}\"\ntoken = \"{TOKEN}\"\n"),
    )
    .expect("write the users file");
    file
}

fn flags(users: &NamedTempFile) -> Vec<String> {
    vec![
        "--users-file".into(),
        users.path().to_str().expect("utf-8").into(),
    ]
}

async fn start(users: &NamedTempFile) -> TestServer {
    let flags = flags(users);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    TestServer::start(&flags).await
}

/// POSTs `body` (none: an empty request) to `path` as the user; returns
/// the status and the JSON answer.
async fn act(server: &TestServer, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = server.http.post(server.url(path)).bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("POST");
    let status = response.status();
    (status, response.json().await.expect("a JSON answer"))
}

async fn history(server: &TestServer, id: &str) -> Vec<HistoryEntry> {
    let value = server
        .get_json(&format!("/api/v1/alerts/{id}/history"))
        .await;
    serde_json::from_value(value).expect("history entries")
}

#[tokio::test]
async fn ack_with_a_note_and_an_expiry_lapses_by_itself() {
    let users = users_file();
    let server = start(&users).await;
    server.post_ok(&alert("a-1", "A", "high")).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;

    let body = json!({"note": "ISP ticket 4411", "expires_in": "1500ms"});
    let (status, acked) = act(&server, "/api/v1/alerts/a-1/ack", Some(body)).await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["acked_by"], json!(USER));
    assert_eq!(acked["ack_note"], json!("ISP ticket 4411"));
    let (kind, event) = screen.next_event().await;
    assert_eq!(kind, EventKind::Acknowledged);
    let lapse_at = event.alert.ack_expires_at.expect("ack_expires_at set");
    assert_eq!(event.alert.ack_note.as_deref(), Some("ISP ticket 4411"));

    let (kind, event) = screen.next_event().await;
    let late = chrono::Utc::now() - lapse_at;
    assert_eq!(
        (kind, event.reason),
        (EventKind::Unacknowledged, Some(EventReason::AckExpired))
    );
    assert!(event.alert.acked_by.is_none() && event.alert.ack_note.is_none());
    assert!(
        late >= chrono::Duration::zero() && late < chrono::Duration::seconds(1),
        "lapsed {late} after its time"
    );
    let steps = history(&server, "a-1").await;
    let last = steps.last().expect("history");
    assert_eq!(
        (last.event, last.by.as_str(), last.reason),
        (
            EventKind::Unacknowledged,
            "noc-server",
            Some(EventReason::AckExpired)
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn unack_notes_and_history() {
    let users = users_file();
    let server = start(&users).await;
    server.post_ok(&alert("a-2", "A", "high")).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;

    // Ack with no body at all, and with an empty one labelled JSON.
    let (status, _) = act(&server, "/api/v1/alerts/a-2/ack", None).await;
    assert_eq!(status, 200);
    assert_eq!(screen.next_event().await.0, EventKind::Acknowledged);
    let response = server
        .http
        .post(server.url("/api/v1/alerts/a-2/ack"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    assert_eq!(screen.next_event().await.0, EventKind::Acknowledged);
    let (status, unacked) = act(&server, "/api/v1/alerts/a-2/unack", None).await;
    assert_eq!(status, 200, "{unacked}");
    assert_eq!(unacked["acked_by"], Value::Null);
    assert_eq!(screen.next_event().await.0, EventKind::Unacknowledged);
    // Not acked: 200, and nothing emitted.
    let (status, _) = act(&server, "/api/v1/alerts/a-2/unack", None).await;
    assert_eq!(status, 200);

    let (status, note) = act(
        &server,
        "/api/v1/alerts/a-2/notes",
        Some(json!({"text": "called the ISP"})),
    )
    .await;
    assert_eq!(status, 201, "{note}");
    let note: Note = serde_json::from_value(note).expect("a note");
    assert_eq!(
        (
            note.alert_id.as_str(),
            note.author.as_str(),
            note.text.as_str()
        ),
        ("a-2", USER, "called the ISP")
    );
    let (kind, event) = screen.next_event().await;
    assert_eq!(kind, EventKind::Noted);
    assert_eq!(event.note, Some(note));
    assert_eq!(event.alert.notes, 1);

    server
        .post_ok(&json!({"id": "a-2", "event": "alert.resolved"}))
        .await;
    assert_eq!(screen.next_event().await.0, EventKind::Resolved);
    let marker = server.post_marker("A").await;
    screen.expect_marker(&marker).await;

    // Resolved: notes still, ack and unack 409.
    for path in ["/api/v1/alerts/a-2/ack", "/api/v1/alerts/a-2/unack"] {
        let (status, error) = act(&server, path, None).await;
        assert_eq!(status, 409, "{path}: {error}");
        assert!(
            error["error"]
                .as_str()
                .is_some_and(|e| e.contains("resolved"))
        );
    }
    let (status, _) = act(
        &server,
        "/api/v1/alerts/a-2/notes",
        Some(json!({"text": "root cause: fibre cut"})),
    )
    .await;
    assert_eq!(status, 201);

    let steps = history(&server, "a-2").await;
    let kinds: Vec<EventKind> = steps.iter().map(|s| s.event).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::Acknowledged,
            EventKind::Acknowledged,
            EventKind::Unacknowledged,
            EventKind::Noted,
            EventKind::Resolved,
            EventKind::Noted
        ]
    );
    assert!(
        steps.windows(2).all(|w| w[0].seq < w[1].seq),
        "oldest first"
    );
    let by: Vec<&str> = steps.iter().map(|s| s.by.as_str()).collect();
    assert_eq!(by, ["webhook", USER, USER, USER, USER, "webhook", USER]);
    assert_eq!(steps[1].changes["acked_by"], (Value::Null, json!(USER)));
    assert_eq!(
        steps[5].changes["status"],
        (json!("active"), json!("resolved"))
    );
    assert_eq!(steps[4].note.as_deref(), Some("called the ISP"));
    server.stop().await;
}

#[tokio::test]
async fn refusals() {
    let users = users_file();
    let server = start(&users).await;
    server.post_ok(&alert("a-3", "A", "high")).await;
    for (path, body, status) in [
        ("/api/v1/alerts/nope/ack", None, 404),
        ("/api/v1/alerts/nope/unack", None, 404),
        ("/api/v1/alerts/nope/notes", Some(json!({"text": "x"})), 404),
        (
            "/api/v1/alerts/a-3/ack",
            Some(json!({"expires_in": "later"})),
            422,
        ),
        (
            "/api/v1/alerts/a-3/ack",
            Some(json!({"expires_in": 0})),
            422,
        ),
        ("/api/v1/alerts/a-3/ack", Some(json!({"note": 5})), 422),
        ("/api/v1/alerts/a-3/ack", Some(json!(["x"])), 422),
        ("/api/v1/alerts/a-3/notes", Some(json!({"text": " "})), 422),
        ("/api/v1/alerts/a-3/notes", Some(json!({})), 422),
        (
            "/api/v1/alerts/a-3/notes",
            Some(json!({"text": "n".repeat(4097)})),
            422,
        ),
    ] {
        let (got, error) = act(&server, path, body.clone()).await;
        assert_eq!(got, status, "{path} {body:?}: {error}");
        assert!(error["error"].is_string(), "{error}");
    }
    // No user token: 401, and the ingest token is not a user's.
    let response = server
        .http
        .post(server.url("/api/v1/alerts/a-3/notes"))
        .bearer_auth(common::INGEST)
        .json(&json!({"text": "x"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 401);
    let response = server
        .http
        .get(server.url("/api/v1/alerts/nope/history"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 404);
    let stored = server.stored("a-3").await;
    assert!(
        stored.acked_by.is_none() && stored.notes == 0,
        "nothing refused is stored"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_ack_lapses_on_time_across_a_restart() {
    let users = users_file();
    let server = start(&users).await;
    server.post_ok(&alert("a-4", "A", "high")).await;
    let (status, acked) = act(
        &server,
        "/api/v1/alerts/a-4/ack",
        Some(json!({"expires_in": "3s"})),
    )
    .await;
    assert_eq!(status, 200, "{acked}");
    let (dir, database, addr) = (
        Arc::clone(&server.dir),
        server.database.clone(),
        server.addr,
    );
    server.stop().await;

    let flags = flags(&users);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = TestServer::start_on(dir, database, &addr.to_string(), &flags).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    let snapshot = screen.snapshot().await;
    assert!(
        snapshot.alerts[0].acked_by.is_some(),
        "still acked after the restart"
    );
    let (kind, event) = screen.next_event().await;
    assert_eq!(
        (kind, event.reason, event.alert.id.as_str()),
        (
            EventKind::Unacknowledged,
            Some(EventReason::AckExpired),
            "a-4"
        )
    );
    let lapse_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(acked["ack_expires_at"].clone()).expect("ack_expires_at");
    assert!(chrono::Utc::now() - lapse_at < chrono::Duration::seconds(1));
    server.stop().await;
}

#[tokio::test]
async fn the_history_of_one_alert_from_creation_to_resolution() {
    let users = users_file();
    let server = start(&users).await;
    let mut body = alert("h-1", "A", "high");
    body["host"] = json!("sw-h1");
    server.post_ok(&body).await;
    body["severity"] = json!("critical");
    server.post_ok(&body).await;
    let (status, acked) = act(
        &server,
        "/api/v1/alerts/h-1/ack",
        Some(json!({"note": "fibre crew on site"})),
    )
    .await;
    assert_eq!(status, 200, "{acked}");
    let silence = common::silences::silence(
        &server,
        json!({"matchers": [{"name": "host", "op": "=", "value": "sw-h1"}],
               "duration": "1h", "comment": "planned work"}),
    )
    .await;
    server
        .post_ok(&json!({"id": "h-1", "event": "alert.resolved"}))
        .await;

    let steps = history(&server, "h-1").await;
    let done: Vec<(EventKind, &str, Option<EventReason>)> = steps
        .iter()
        .map(|s| (s.event, s.by.as_str(), s.reason))
        .collect();
    assert_eq!(
        done,
        [
            (EventKind::Created, "webhook", None),
            (EventKind::Updated, "webhook", None),
            (EventKind::Acknowledged, USER, None),
            (EventKind::Updated, "noc-server", Some(EventReason::Silence)),
            (EventKind::Resolved, "webhook", None),
        ]
    );
    assert!(
        steps
            .windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at)
    );
    let change = |i: usize, field: &str| steps[i].changes.get(field).cloned();
    assert_eq!(
        change(1, "severity"),
        Some((json!("high"), json!("critical")))
    );
    assert_eq!(change(2, "acked_by"), Some((Value::Null, json!(USER))));
    assert_eq!(steps[2].note.as_deref(), Some("fibre crew on site"));
    assert_eq!(
        change(3, "silenced_by"),
        Some((Value::Null, json!(silence.id)))
    );
    assert_eq!(
        change(4, "status"),
        Some((json!("active"), json!("resolved")))
    );
    assert_eq!(
        change(4, "silenced_by"),
        Some((json!(silence.id), Value::Null)),
        "a resolved alert is silenced by nothing"
    );
    server.stop().await;
}
