//! The HTTP contract: every bad input of the error table gets its status
//! and a JSON error and stores nothing; tokens, users and the read API.

mod common;

use common::{INGEST, Screen, TestServer, alert};
use noc_shared::EventKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Sends a raw POST and returns (status, JSON body).
async fn raw_post(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = server.http.post(server.url(path)).body(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = request.send().await.expect("POST");
    let status = response.status();
    let text = response.text().await.expect("body");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"));
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()) || status.is_success(),
        "{status}: {body}"
    );
    (status, body)
}

/// How many alerts the server holds, in any status, and the last event's
/// seq.
async fn stored(server: &TestServer) -> (i64, u64) {
    (server.alerts_in_store().await, server.last_seq().await)
}

/// A bad request: its name, token, content type, body, the status it must
/// get and a word its error must say.
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Vec<u8>,
    StatusCode,
    &'a str,
);

#[tokio::test]
async fn every_refusal_has_its_status_a_json_error_and_stores_nothing() {
    let server = TestServer::start(&["--max-body", "2000"]).await;
    server.post_ok(&alert("known", "A", "info")).await;
    let before = stored(&server).await;
    let json_ct = Some("application/json");
    let good = serde_json::to_vec(&alert("new", "A", "info")).expect("json");
    let big =
        serde_json::to_vec(&json!({"site": "A", "severity": "info", "message": "x".repeat(3000)}))
            .expect("json");
    let cases: Vec<Case> = vec![
        ("no token", None, json_ct, good.clone(), StatusCode::UNAUTHORIZED, "token"),
        ("wrong token", Some("nope"), json_ct, good.clone(), StatusCode::UNAUTHORIZED, "token"),
        ("401 before 415", Some("nope"), Some("text/plain"), b"x".to_vec(), StatusCode::UNAUTHORIZED, "token"),
        ("not JSON content type", Some(INGEST), Some("text/plain"), good.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/json"),
        ("no content type", Some(INGEST), None, good.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/json"),
        ("415 before 413", Some(INGEST), Some("text/plain"), big.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/json"),
        ("over --max-body", Some(INGEST), json_ct, big.clone(), StatusCode::PAYLOAD_TOO_LARGE, "max-body"),
        ("413 before 400", Some(INGEST), json_ct, [b"{".as_slice(), &vec![b' '; 3000]].concat(), StatusCode::PAYLOAD_TOO_LARGE, "max-body"),
        ("malformed JSON", Some(INGEST), json_ct, b"{\"site\":".to_vec(), StatusCode::BAD_REQUEST, "malformed"),
        ("not an object", Some(INGEST), json_ct, b"\"alert\"".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "object"),
        ("unknown severity", Some(INGEST), json_ct, br#"{"site":"A","severity":"apocalyptic","message":"m"}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "severity"),
        ("empty site", Some(INGEST), json_ct, br#"{"site":"  ","severity":"info","message":"m"}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "site"),
        ("empty message", Some(INGEST), json_ct, br#"{"site":"A","severity":"info","message":""}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "message"),
        ("empty id", Some(INGEST), json_ct, br#"{"id":"","site":"A","severity":"info","message":"m"}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "id"),
        ("missing site", Some(INGEST), json_ct, br#"{"severity":"info","message":"m"}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "site"),
        ("site over 100", Some(INGEST), json_ct, format!(r#"{{"site":"{}","severity":"info","message":"m"}}"#, "s".repeat(101)).into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, "site"),
        ("id over 200", Some(INGEST), json_ct, format!(r#"{{"id":"{}","site":"A","severity":"info","message":"m"}}"#, "i".repeat(201)).into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, "id"),
        ("host over 255", Some(INGEST), json_ct, format!(r#"{{"host":"{}","site":"A","severity":"info","message":"m"}}"#, "h".repeat(256)).into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, "host"),
        ("wrong type", Some(INGEST), json_ct, br#"{"site":["A"],"severity":"info","message":"m"}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "site"),
        ("array with one invalid", Some(INGEST), json_ct, br#"[{"site":"A","severity":"info","message":"m"},{"site":"A","severity":"nope","message":"m"}]"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "index 1"),
        ("empty array", Some(INGEST), json_ct, b"[]".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "no alerts"),
        ("resolve unknown", Some(INGEST), json_ct, br#"{"id":"ghost","event":"alert.resolved"}"#.to_vec(), StatusCode::NOT_FOUND, "ghost"),
        ("array with an unknown resolve", Some(INGEST), json_ct, br#"[{"id":"n2","site":"A","severity":"info","message":"m"},{"id":"ghost","event":"alert.resolved"}]"#.to_vec(), StatusCode::NOT_FOUND, "ghost"),
    ];
    for (name, token, ct, body, want, says) in cases {
        let (status, answer) = raw_post(&server, "/internal/alerts", token, ct, body).await;
        assert_eq!(status, want, "{name}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(says),
            "{name}: error {error:?} should mention {says:?}"
        );
        assert_eq!(
            stored(&server).await,
            before,
            "{name}: nothing stored, no event"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_routes_methods_and_queries_answer_json() {
    let server = TestServer::start(&[]).await;
    let get = |path: &str| server.http.get(server.url(path)).send();
    for (path, want) in [
        ("/nope", StatusCode::NOT_FOUND),
        ("/api/v1/alerts/ghost", StatusCode::NOT_FOUND),
        (
            "/api/v1/alerts?status=bogus",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/alerts?min_severity=bogus",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/api/v1/alerts?limit=-3", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let response = get(path).await.expect("GET");
        assert_eq!(response.status(), want, "{path}");
        let body: Value = response.json().await.expect("JSON");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let response = server
        .http
        .delete(server.url("/healthz"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.json::<Value>().await.expect("JSON")["error"].is_string());
    let ws = server
        .http
        .get(server.url("/ws/alerts"))
        .send()
        .await
        .expect("plain GET of the WebSocket");
    assert_eq!(ws.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn list_filters_orders_and_limits() {
    let sites = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(
        sites.path(),
        "[groups]\nUganda = [\"Kampala\", \"Entebbe\"]\n",
    )
    .expect("write");
    let server = TestServer::start(&["--sites-file", sites.path().to_str().expect("utf-8")]).await;
    for (i, (site, sev)) in [
        ("Kampala", "info"),
        ("Entebbe", "critical"),
        ("Arusha", "high"),
        ("kampala", "warning"),
    ]
    .iter()
    .enumerate()
    {
        server.post_ok(&alert(&format!("a{i}"), site, sev)).await;
        // Distinct creation times (millisecond precision), so "newest first" is defined.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    server
        .post_ok(&json!({"id": "a1", "event": "alert.resolved"}))
        .await;
    let ids = |v: Value| {
        v.as_array()
            .expect("array")
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(server.get_json("/api/v1/alerts").await),
        vec!["a3", "a2", "a0"],
        "active, newest first"
    );
    assert_eq!(
        ids(server.get_json("/api/v1/alerts?site=uganda").await),
        vec!["a3", "a0"],
        "group, case-insensitive"
    );
    assert_eq!(
        ids(server
            .get_json("/api/v1/alerts?site=Uganda&status=resolved")
            .await),
        vec!["a1"]
    );
    assert_eq!(
        ids(server
            .get_json("/api/v1/alerts?status=all&min_severity=high")
            .await),
        vec!["a2", "a1"]
    );
    assert_eq!(
        ids(server.get_json("/api/v1/alerts?status=all&limit=2").await),
        vec!["a3", "a2"]
    );
    let one = server.get_json("/api/v1/alerts/a1").await;
    assert_eq!(
        (one["status"].as_str(), one["resolved_at"].is_string()),
        (Some("resolved"), true)
    );
    server.stop().await;
}

#[tokio::test]
async fn the_list_takes_100_by_default_and_at_most_1000() {
    let server = TestServer::start(&[]).await;
    let body: Vec<Value> = (0..1005)
        .map(|i| alert(&format!("n{i:04}"), "A", "info"))
        .collect();
    server.post_ok(&json!(body)).await;
    assert_eq!(server.alerts_in_store().await, 1005);
    let count = |v: Value| v.as_array().map_or(0, Vec::len);
    assert_eq!(
        count(server.get_json("/api/v1/alerts").await),
        100,
        "default"
    );
    for limit in [1000, 1001, 5000] {
        assert_eq!(
            count(
                server
                    .get_json(&format!("/api/v1/alerts?limit={limit}"))
                    .await
            ),
            1000,
            "limit={limit}: above 1000 is taken as 1000"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn life_of_an_id_over_http() {
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    let first = server
        .post_ok(
            &json!({"id": "x", "site": "A", "severity": "high", "message": "down", "host": "h1"}),
        )
        .await;
    assert_eq!(first["source"], "webhook");
    let again = server
        .post_ok(&json!({"id": "x", "site": "A", "severity": "critical", "message": "still down"}))
        .await;
    assert_eq!(
        (again["severity"].as_str(), again["created_at"].clone()),
        (Some("critical"), first["created_at"].clone())
    );
    let resolved = server
        .post_ok(&json!({"id": "x", "event": "alert.resolved"}))
        .await;
    assert_eq!(
        (resolved["status"].as_str(), resolved["message"].as_str()),
        (Some("resolved"), Some("still down"))
    );
    let twice = server.post_ok(&json!({"id": "x", "event": "alert.resolved", "message": "a resolved alert stays as it was"})).await;
    assert_eq!(twice["status"], "resolved");
    let reopened = server.post_ok(&alert("x", "A", "info")).await;
    assert_eq!(reopened["status"], "active");
    let unknown_resolved = server.post_ok(&json!({"id": "y", "site": "B", "severity": "info", "message": "m", "event": "alert.resolved"})).await;
    assert_eq!(unknown_resolved["status"], "resolved");
    let kinds: Vec<EventKind> = {
        let mut kinds = Vec::new();
        for _ in 0..5 {
            let msg = screen.next().await;
            kinds.push(msg.as_alert_event().expect("alert event").0);
        }
        kinds
    };
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::Updated,
            EventKind::Resolved,
            EventKind::Created,
            EventKind::Resolved
        ]
    );
    // Resolving the resolved alert emitted nothing (the re-open came
    // next), and nothing follows the last event.
    let marker = server.post_marker("A").await;
    screen.expect_marker(&marker).await;
    server.stop().await;
}

/// Alerts posted together are written by one statement, an alert posted
/// alone by another: both keep every field alike.
#[tokio::test]
async fn an_alert_in_an_array_is_stored_as_one_posted_alone() {
    let server = TestServer::start(&[]).await;
    let full = |id: &str| {
        json!({"id": id, "site": "Ngorongoro", "severity": "average",
               "message": "ifOperStatus down «uplink»", "host": "sw-07",
               "source": "zabbix", "description": "Line 1\nLine 2",
               "url": "https://zabbix.example/tr_events.php?eventid=42",
               "labels": {"zabbix.eventid": "42", "team": "core"},
               "ttl": "1h", "at": "2026-11-30T10:00:00.123Z"})
    };
    server.post_ok(&full("alone")).await;
    server
        .post_ok(&json!([full("together-1"), full("together-2")]))
        .await;
    let strip = |mut alert: Value| {
        let map = alert.as_object_mut().expect("an object");
        for key in [
            "id",
            "created_at",
            "updated_at",
            "last_seen_at",
            "expires_at",
        ] {
            map.remove(key);
        }
        alert
    };
    let alone = strip(server.get_json("/api/v1/alerts/alone").await);
    for id in ["together-1", "together-2"] {
        let together = strip(server.get_json(&format!("/api/v1/alerts/{id}")).await);
        assert_eq!(together, alone, "{id}");
    }
    assert_eq!(alone["labels"]["team"], "core", "{alone}");
    server.stop().await;
}

/// One array may hold an id several times: each entry sees what the one
/// before it made, as separate POSTs would.
#[tokio::test]
async fn an_array_changes_one_alert_step_by_step() {
    let server = TestServer::start(&[]).await;
    server.post_ok(&alert("old", "A", "info")).await;
    let answer = server
        .post_ok(&json!([
            {"id": "x", "site": "A", "severity": "high", "message": "down"},
            {"id": "old", "event": "alert.resolved"},
            {"id": "x", "site": "A", "severity": "critical", "message": "still down"},
            {"id": "x", "event": "alert.resolved"},
            {"id": "x", "event": "alert.resolved"},
            {"id": "x", "site": "A", "severity": "info", "message": "back"},
        ]))
        .await;
    let statuses: Vec<&str> = answer
        .as_array()
        .expect("one answer per entry")
        .iter()
        .map(|a| a["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        statuses,
        [
            "active", "resolved", "active", "resolved", "resolved", "active"
        ]
    );
    let history = server.get_json("/api/v1/alerts/x/history").await;
    let events: Vec<&str> = history
        .as_array()
        .expect("a list")
        .iter()
        .map(|h| h["event"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        events,
        [
            "alert.created",
            "alert.updated",
            "alert.resolved",
            "alert.created"
        ],
        "{history}"
    );
    let x = server.stored("x").await;
    assert_eq!(
        (x.message.as_str(), x.severity),
        ("back", noc_shared::Severity::Info)
    );
    assert_eq!(
        server.stored("old").await.status,
        noc_shared::Status::Resolved
    );
    server.stop().await;
}

#[tokio::test]
async fn users_and_viewer_tokens() {
    let users = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(
        users.path(),
        "[[user]]\nemail = \"irene@noc.example\"\ntoken = \"irene-token\"\n",
    )
    .expect("write");
    let server = TestServer::start(&[
        "--users-file",
        users.path().to_str().expect("utf-8"),
        "--viewer-token",
        "wall",
    ])
    .await;
    let get = |path: &str, token: Option<&str>| {
        let mut r = server.http.get(server.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    for path in ["/api/v1/alerts", "/api/v1/screens"] {
        assert_eq!(
            get(path, None).await.expect("GET").status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(
            get(path, Some(INGEST)).await.expect("GET").status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(
            get(path, Some("wall")).await.expect("GET").status(),
            StatusCode::OK,
            "{path}"
        );
        assert_eq!(
            get(path, Some("irene-token")).await.expect("GET").status(),
            StatusCode::OK,
            "{path}"
        );
    }
    assert_eq!(
        get("/healthz", None).await.expect("GET").status(),
        StatusCode::OK
    );
    assert_eq!(
        get("/metrics", None).await.expect("GET").status(),
        StatusCode::OK
    );
    // The WebSocket refuses before upgrading, and takes ?token=.
    let refused = tokio_tungstenite::connect_async(server.ws_url(""))
        .await
        .expect_err("401");
    assert!(
        matches!(refused, tokio_tungstenite::tungstenite::Error::Http(ref r) if r.status() == 401),
        "{refused}"
    );
    let mut screen = Screen::connect(&server.ws_url("token=wall")).await;
    screen.snapshot().await;

    let body = alert("p1", "A", "high");
    let post = |token: &str| {
        server
            .http
            .post(server.url("/api/v1/alerts"))
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };
    assert_eq!(
        post("wall").await.expect("POST").status(),
        StatusCode::UNAUTHORIZED
    );
    let created: Value = post("irene-token")
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(created["source"], "api");
    let ack = server
        .http
        .post(server.url("/api/v1/alerts/p1/ack"))
        .bearer_auth("irene-token")
        .send()
        .await
        .expect("ack");
    assert_eq!(ack.status(), StatusCode::OK);
    let acked: Value = ack.json().await.expect("JSON");
    assert_eq!(acked["acked_by"], "irene@noc.example");
    assert!(acked["acked_at"].is_string());
    let ghost = server
        .http
        .post(server.url("/api/v1/alerts/ghost/ack"))
        .bearer_auth("irene-token")
        .send()
        .await
        .expect("ack");
    assert_eq!(ghost.status(), StatusCode::NOT_FOUND);
    let resolve = server
        .http
        .post(server.url("/api/v1/alerts/p1/resolve"))
        .bearer_auth("irene-token")
        .send()
        .await
        .expect("resolve");
    assert_eq!(
        resolve.json::<Value>().await.expect("JSON")["status"],
        "resolved"
    );
    let kinds: Vec<EventKind> = {
        let mut kinds = Vec::new();
        for _ in 0..3 {
            kinds.push(screen.next().await.as_alert_event().expect("event").0);
        }
        kinds
    };
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::Acknowledged,
            EventKind::Resolved
        ]
    );
    server.stop().await;
}
