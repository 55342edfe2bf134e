//! History and retention: resolved alerts paged back in time with
//! `before`, and `--keep-resolved` deleting old ones (with their history)
//! in small batches while ingest goes on, with nothing lost and no gap in
//! `seq` on a screen. Runs on SQLite, or on PostgreSQL with
//! `NOC_TEST_STORE=postgres`.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{INGEST, Screen, TestServer, alert, within};
use noc_shared::Alert;
use serde_json::{Value, json};

/// `GET /api/v1/alerts` with `query`: the status and the answer.
async fn list(server: &TestServer, query: &[(&str, &str)]) -> (u16, Value) {
    let response = server
        .http
        .get(server.url("/api/v1/alerts"))
        .query(query)
        .send()
        .await
        .expect("GET /api/v1/alerts");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

fn resolve(id: &str) -> Value {
    json!({"id": id, "event": "alert.resolved"})
}

#[tokio::test]
async fn resolved_alerts_page_back_most_recently_resolved_first() {
    let server = TestServer::start(&[]).await;
    let ids: Vec<String> = (0..12).map(|i| format!("old-{i:02}")).collect();
    let created: Vec<Value> = ids.iter().map(|id| alert(id, "Kampala", "high")).collect();
    server.post_ok(&json!(created)).await;
    server
        .post_ok(&alert("still-active", "Kampala", "high"))
        .await;
    for id in &ids[..5] {
        server.post_ok(&resolve(id)).await;
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // Seven in one request: resolved in the same millisecond or nearly.
    let together: Vec<Value> = ids[5..].iter().map(|id| resolve(id)).collect();
    server.post_ok(&json!(together)).await;

    let mut seen: Vec<Alert> = Vec::new();
    let mut before: Option<String> = None;
    for _ in 0..20 {
        let mut query = vec![("status", "resolved"), ("limit", "3")];
        if let Some(b) = &before {
            query.push(("before", b));
        }
        let (status, page) = list(&server, &query).await;
        assert_eq!(status, 200, "{page}");
        let page: Vec<Alert> = serde_json::from_value(page).expect("alerts");
        let Some(last) = page.last() else { break };
        // The answer's own time, as written, is the next page's `before`.
        let value = serde_json::to_value(last).expect("alert");
        before = Some(value["resolved_at"].as_str().expect("a time").to_owned());
        seen.extend(page);
    }
    let got: Vec<&str> = seen.iter().map(|a| a.id.as_str()).collect();
    let unique: HashSet<&str> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "no alert twice: {got:?}");
    assert_eq!(
        unique,
        ids.iter().map(String::as_str).collect(),
        "every one"
    );
    let times: Vec<_> = seen.iter().map(|a| a.resolved_at).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "most recently resolved first: {times:?}"
    );
    assert_eq!(seen.last().map(|a| a.id.as_str()), Some("old-00"));

    let (status, error) = list(&server, &[("before", "2026-11-28T19:40:00Z")]).await;
    assert_eq!(status, 422, "before pages resolved alerts only: {error}");
    let (status, error) = list(&server, &[("status", "resolved"), ("before", "yesterday")]).await;
    assert_eq!(status, 422);
    assert!(
        error["error"].as_str().unwrap_or("").contains("RFC 3339"),
        "{error}"
    );
    server.stop_and_drop_database().await;
}

/// A count from the server's database.
async fn count(server: &TestServer, sql: &str) -> i64 {
    use sqlx::Connection;
    if server.database.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&server.database)
            .await
            .expect("connect");
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect("count")
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&server.database)
            .await
            .expect("open");
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect("count")
    }
}

const POSTERS: usize = 4;
const EACH: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retention_deletes_old_resolved_alerts_while_ingest_goes_on() {
    let server = TestServer::start(&["--keep-resolved", "1s"]).await;
    for k in 0..5 {
        server
            .post_ok(&alert(&format!("keep-{k}"), "Kampala", "high"))
            .await;
    }
    // More than one batch of old resolved alerts, with their history.
    for chunk in 0..6 {
        let ids: Vec<String> = (0..100).map(|i| format!("seed-{chunk}-{i}")).collect();
        let created: Vec<Value> = ids.iter().map(|id| alert(id, "Entebbe", "info")).collect();
        server.post_ok(&json!(created)).await;
        let resolved: Vec<Value> = ids.iter().map(|id| resolve(id)).collect();
        server.post_ok(&json!(resolved)).await;
    }
    let mut screen = Screen::connect(&server.ws_url("")).await;
    let from = screen.snapshot().await.seq;

    let posters: Vec<_> = (0..POSTERS)
        .map(|p| {
            let (http, url) = (server.http.clone(), server.url("/internal/alerts"));
            tokio::spawn(async move {
                for i in 0..EACH {
                    let id = format!("p{p}-{i}");
                    for body in [alert(&id, "Kampala", "warning"), resolve(&id)] {
                        let response = http
                            .post(&url)
                            .bearer_auth(INGEST)
                            .json(&body)
                            .send()
                            .await
                            .expect("POST");
                        assert_eq!(response.status(), 200, "{id}");
                    }
                }
            })
        })
        .collect();
    // 300 writes one after another per poster: longer than one wait on a
    // busy machine (PostgreSQL commits each).
    for poster in posters {
        tokio::time::timeout(Duration::from_secs(120), poster)
            .await
            .expect("the posters to finish")
            .expect("every write answered 200");
    }
    let marker = server.post_marker("Kampala").await;
    let mut seqs = Vec::new();
    let last = within("every event up to the marker", async {
        loop {
            let (_, event) = screen.next_event().await;
            seqs.push(event.seq);
            if event.alert.id == marker {
                return event.seq;
            }
        }
    })
    .await;
    let expected: Vec<u64> = (from + 1..=last).collect();
    assert_eq!(seqs, expected, "no gap and nothing twice");
    assert_eq!(seqs.len(), POSTERS * EACH * 2 + 1);

    // Every resolved alert goes within a few checks; active ones stay.
    within("the old resolved alerts to go", async {
        while count(
            &server,
            "SELECT COUNT(*) FROM alerts WHERE status = 'resolved'",
        )
        .await
            > 0
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!(
        server.alerts_in_store().await,
        5 + 1,
        "the active ones and the marker"
    );
    let history = "SELECT COUNT(*) FROM history WHERE alert_id LIKE 'seed-%' OR alert_id LIKE 'p%'";
    assert_eq!(
        count(&server, history).await,
        0,
        "their history went with them"
    );
    if !server.database.starts_with("postgres") {
        let free = count(&server, "SELECT freelist_count FROM pragma_freelist_count").await;
        assert!(
            free < 16,
            "free pages given back to the file system: {free} left"
        );
    }
    server.stop_and_drop_database().await;
}
