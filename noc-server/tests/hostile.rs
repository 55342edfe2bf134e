//! Hostile input: random bodies on every write endpoint and random frames
//! on the WebSocket never make the server panic, answer 5xx, or store
//! anything partial.

mod common;

use std::time::Duration;

use common::{INGEST, Screen, TestServer};
use futures_util::SinkExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

/// JSON shaped like an alert, with each field sometimes wrong.
fn alertish() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        Just(Value::Null),
        "[a-zA-Z0-9 <>&\"'é\u{1F525}]{0,12}".prop_map(Value::from),
        "\\PC{0,300}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::from("x".repeat(5000))),
        Just(serde_json::json!(["a"])),
        prop_oneof![
            Just("critical"),
            Just("Disaster"),
            Just("not classified"),
            Just("alert.resolved"),
            Just("alert.created")
        ]
        .prop_map(Value::from),
    ];
    let field = prop_oneof![
        Just("id"),
        Just("site"),
        Just("severity"),
        Just("message"),
        Just("host"),
        Just("source"),
        Just("event"),
        Just("junk")
    ];
    let object = prop::collection::vec((field, text), 0..9).prop_map(|pairs| {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    });
    prop_oneof![
        4 => object.clone(),
        2 => prop::collection::vec(object, 0..5).prop_map(Value::Array),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(Value::Null),
    ]
}

/// A body: an alert-like JSON, or raw bytes that are mostly not JSON.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => alertish().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

#[test]
fn random_bodies_never_answer_5xx_nor_store_anything_partial() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(TestServer::start(&[]));
    let count = || {
        runtime.block_on(async {
            let all = server
                .get_json("/api/v1/alerts?status=all&limit=1000")
                .await;
            all.as_array().map_or(0, Vec::len)
        })
    };
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let paths = prop::sample::select(vec![
        "/internal/alerts",
        "/internal/alertmanager",
        "/api/v1/alerts",
    ]);
    runner
        .run(&(paths, body()), |(path, bytes)| {
            let before = count();
            let (status, answer) = runtime.block_on(async {
                let response = server
                    .http
                    .post(server.url(path))
                    .bearer_auth(INGEST)
                    .header("content-type", "application/json")
                    .body(bytes.clone())
                    .send()
                    .await
                    .expect("the server answers");
                let status = response.status();
                (status, response.text().await.expect("body"))
            });
            prop_assert!(
                !status.is_server_error(),
                "{status} for {}: {answer}",
                String::from_utf8_lossy(&bytes)
            );
            let parsed: Value = serde_json::from_str(&answer)
                .map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
            if !status.is_success() {
                prop_assert!(parsed["error"].is_string(), "{status}: {answer}");
                prop_assert_eq!(count(), before, "a refused request stored something");
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(server.stop());
}

#[test]
fn random_frames_get_errors_or_a_close_and_the_server_carries_on() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(TestServer::start(&["--max-client-rate", "100000"]));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    let frame = prop_oneof![
        "\\PC{0,200}".prop_map(Message::text),
        alertish().prop_map(|v| Message::text(v.to_string())),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(Message::binary),
    ];
    runner
        .run(&prop::collection::vec(frame, 1..20), |frames| {
            runtime.block_on(async {
                let mut screen = Screen::connect(&server.ws_url("")).await;
                screen.snapshot().await;
                for frame in frames {
                    if screen.ws.send(frame).await.is_err() {
                        break;
                    }
                }
            });
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        // Still serving: health, and a new screen with a clean snapshot.
        let health = server
            .http
            .get(server.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        assert_eq!(health.status(), 200);
        let mut screen = Screen::connect(&server.ws_url("")).await;
        screen.snapshot().await;
        assert!(screen.is_quiet(Duration::from_millis(100)).await);
        server.stop().await;
    });
}
