//! The API client against a stand-in server (axum, on an ephemeral port)
//! that records each request and answers what the test says: the paths,
//! methods, tokens and bodies of every action, the path prefix of an
//! `http://` base kept, and every failure put in words.

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use clap::Parser;
use noc_tui::api::{ApiClient, Reply, Request, SilenceScope};
use noc_tui::{Cli, Config};
use serde_json::{Value, json};

/// What the stand-in saw: method, path, the Authorization header, the body.
type Seen = (String, String, Option<String>, Value);

#[derive(Clone)]
struct Stub {
    seen: Arc<Mutex<Vec<Seen>>>,
    answer: Arc<Mutex<(StatusCode, Value)>>,
}

impl Stub {
    fn seen(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn answer(&self, status: StatusCode, body: Value) {
        *self.answer.lock().unwrap_or_else(PoisonError::into_inner) = (status, body);
    }
}

async fn record(
    State(stub): State<Stub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    stub.seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((method.to_string(), uri.path().to_owned(), auth, body));
    let (status, body) = stub
        .answer
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    (status, axum::Json(body))
}

/// The stand-in on 127.0.0.1:0, answering 200 `{}` until told otherwise.
async fn stub() -> (Stub, String) {
    let stub = Stub {
        seen: Arc::default(),
        answer: Arc::new(Mutex::new((StatusCode::OK, json!({})))),
    };
    let app = Router::new().fallback(record).with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (stub, format!("http://{addr}"))
}

/// A client with these flags, and the WebSocket URL the screen would be
/// connected to (the one the client derives the API's base from).
fn client(args: &[&str]) -> (ApiClient, String) {
    let mut argv = vec!["noc-tui"];
    argv.extend_from_slice(args);
    let config = Config::from_cli(Cli::parse_from(argv)).expect("valid flags");
    let ws = config.urls[0].to_string();
    (ApiClient::new(&config).expect("client"), ws)
}

fn failure(reply: Reply) -> String {
    match reply {
        Reply::Done {
            result: Err(why), ..
        }
        | Reply::History {
            result: Err(why), ..
        } => why,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn each_action_is_its_request_with_the_user_token_under_the_prefix() {
    let (stub, base) = stub().await;
    let (api, ws) = client(&[
        "--url",
        &format!("{base}/noc"),
        "--token",
        "viewer",
        "--user-token",
        "irene-token",
    ]);
    let id = "zbx 1/2".to_owned();
    let requests = [
        Request::Ack {
            id: id.clone(),
            note: Some("on it".into()),
            expires_in: Some("2h".into()),
        },
        Request::Unack { id: id.clone() },
        Request::Note {
            id: id.clone(),
            text: "fibre cut".into(),
        },
        Request::Silence {
            id: id.clone(),
            scope: SilenceScope::Host,
            value: "sw-01.kili".into(),
            duration: "30m".into(),
            comment: "planned works".into(),
        },
    ];
    for request in requests {
        let reply = api.send(&ws, request.clone()).await;
        assert_eq!(
            reply,
            Reply::Done {
                request,
                result: Ok(())
            }
        );
    }
    let bearer = Some("Bearer irene-token".to_owned());
    assert_eq!(
        stub.seen(),
        [
            (
                "POST".into(),
                "/noc/api/v1/alerts/zbx%201%2F2/ack".into(),
                bearer.clone(),
                json!({"note": "on it", "expires_in": "2h"})
            ),
            (
                "POST".into(),
                "/noc/api/v1/alerts/zbx%201%2F2/unack".into(),
                bearer.clone(),
                Value::Null
            ),
            (
                "POST".into(),
                "/noc/api/v1/alerts/zbx%201%2F2/notes".into(),
                bearer.clone(),
                json!({"text": "fibre cut"})
            ),
            (
                "POST".into(),
                "/noc/api/v1/silences".into(),
                bearer,
                json!({
                    "matchers": [{"name": "host", "op": "=", "value": "sw-01.kili"}],
                    "duration": "30m",
                    "comment": "planned works"
                })
            ),
        ]
    );
}

#[tokio::test]
async fn the_history_is_read_with_the_viewing_token_and_parsed() {
    let (stub, base) = stub().await;
    let (api, ws) = client(&["--url", &base, "--token", "viewer"]);
    stub.answer(
        StatusCode::OK,
        json!([
            {"seq": 41, "event": "alert.created", "at": "2026-11-28T19:40:00Z", "by": "zabbix-dc1", "note": null, "changes": {}},
            {"seq": 42, "event": "alert.noted", "at": "2026-11-28T19:45:00Z", "by": "irene@sprinttz.example", "note": "on it",
             "changes": {"notes": [0, 1]}}
        ]),
    );
    let reply = api.send(&ws, Request::History { id: "zbx-1".into() }).await;
    let Reply::History {
        id,
        result: Ok(entries),
    } = reply
    else {
        panic!("expected the history, got {reply:?}");
    };
    assert_eq!(id, "zbx-1");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].note.as_deref(), Some("on it"));
    assert_eq!(entries[1].changes["notes"], (json!(0), json!(1)));
    let seen = stub.seen();
    assert_eq!(seen[0].0, "GET");
    assert_eq!(seen[0].1, "/api/v1/alerts/zbx-1/history");
    assert_eq!(seen[0].2.as_deref(), Some("Bearer viewer"));

    // An action without a user token is refused here, never sent.
    let reply = api.send(&ws, Request::Unack { id: "zbx-1".into() }).await;
    assert!(failure(reply).contains("--user-token"));
    assert_eq!(stub.seen().len(), 1);
}

#[tokio::test]
async fn every_failure_is_said_in_words_with_the_servers_own() {
    let (stub, base) = stub().await;
    let (api, ws) = client(&["--url", &base, "--user-token", "t"]);
    let unack = || Request::Unack { id: "x".into() };
    for (status, error, words) in [
        (
            StatusCode::FORBIDDEN,
            "viewer token",
            "this token may only view, not act (403); a user token is needed: viewer token",
        ),
        (
            StatusCode::UNAUTHORIZED,
            "unknown token",
            "does not accept this token (401); check --user-token: unknown token",
        ),
        (
            StatusCode::NOT_FOUND,
            "no alert x",
            "no such alert (404): no alert x",
        ),
        (
            StatusCode::CONFLICT,
            "alert x is resolved",
            "(409): alert x is resolved",
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "comment is required",
            "refused the input (422): comment is required",
        ),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "store down",
            "the server failed (5xx); try again: store down",
        ),
    ] {
        stub.answer(status, json!({"error": error}));
        let why = failure(api.send(&ws, unack()).await);
        assert!(why.contains(words), "{status}: {why}");
    }
    // Nobody listening at all.
    let (api, ws) = client(&["--url", "http://127.0.0.1:9", "--user-token", "t"]);
    let why = failure(api.send(&ws, unack()).await);
    assert!(why.starts_with("cannot reach the server"), "{why}");
}
