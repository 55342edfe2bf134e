//! Silences through the real server: what a silence may hold (422s that
//! say what to fix), its life (pending, active, expired, ended by DELETE),
//! and what it does to the alerts it matches on live screens. Runs on
//! SQLite, and on PostgreSQL with `NOC_TEST_STORE=postgres`.

mod common;

use std::sync::Arc;

use chrono::Utc;
use common::silences::{
    USER, at, files, flags, get, listed, post_silence, server, silence, silence_updates,
    silenced_ids, until,
};
use common::{Screen, TestServer, fresh_postgres_database, postgres_url, within};
use noc_shared::{Alert, EventKind, Silence, SilenceState};
use reqwest::StatusCode;
use serde_json::json;

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
    // Only a user may silence.
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

/// The next `n` alert events: each must be `alert.updated` with reason
#[tokio::test]
async fn a_scheduled_silence_hides_its_alerts_when_it_starts_and_shows_them_at_its_end() {
    let (server, _files) = server().await;
    for (id, site) in [
        ("k1", "Kilimanjaro"),
        ("k2", "kilimanjaro"),
        ("u1", "Kampala"),
    ] {
        server.post_ok(&common::alert(id, site, "high")).await;
    }
    let mut screen = Screen::connect(&server.ws_url("")).await;
    assert!(silenced_ids(&screen.snapshot().await.alerts).is_empty());

    let starts_at = Utc::now() + chrono::Duration::seconds(2);
    let ends_at = starts_at + chrono::Duration::seconds(3);
    let s = silence(
        &server,
        json!({"matchers": [{"name": "site", "op": "=", "value": "Tanzania"}],
               "starts_at": at(starts_at), "ends_at": at(ends_at), "comment": "fibre works"}),
    )
    .await;
    assert_eq!(s.state, SilenceState::Pending);

    // It starts: the two Tanzanian alerts are marked, on the screen within
    // a second of the start, and nothing else moves.
    let marked = silence_updates(&mut screen, 2).await;
    let late = Utc::now() - starts_at;
    assert!(Utc::now() >= starts_at, "marked before the start");
    assert!(
        late < chrono::Duration::seconds(1),
        "{late} after the start"
    );
    assert_eq!(marked.keys().collect::<Vec<_>>(), ["k1", "k2"]);
    assert!(
        marked
            .values()
            .all(|a| a.silenced_by.as_deref() == Some(s.id.as_str()))
    );

    // A new alert inside the silence is stored and emitted marked; one
    // outside it is not.
    server
        .post_ok(&common::alert("k3", "Serengeti", "critical"))
        .await;
    let (kind, created) = screen.next_alert().await;
    assert_eq!(
        (kind, created.silenced_by.as_deref()),
        (EventKind::Created, Some(s.id.as_str()))
    );
    assert_eq!(
        server.stored("k3").await.silenced_by.as_deref(),
        Some(s.id.as_str())
    );
    server
        .post_ok(&common::alert("u1", "Kampala", "critical"))
        .await;
    let (kind, updated) = screen.next_alert().await;
    assert_eq!((kind, updated.silenced_by), (EventKind::Updated, None));
    // The counts: a new screen's picture holds every alert, three marked.
    let picture = Screen::connect(&server.ws_url("")).await.snapshot().await;
    assert_eq!(picture.alerts.len(), 4);
    assert_eq!(silenced_ids(&picture.alerts), ["k1", "k2", "k3"]);

    // It ends: all three shown again within a second of the end.
    until(ends_at - chrono::Duration::milliseconds(300)).await;
    let unmarked = silence_updates(&mut screen, 3).await;
    let late = Utc::now() - ends_at;
    assert!(Utc::now() >= ends_at, "unmarked before the end");
    assert!(late < chrono::Duration::seconds(1), "{late} after the end");
    assert!(unmarked.values().all(|a| a.silenced_by.is_none()));
    let marker = server.post_marker("Kampala").await;
    screen.expect_marker(&marker).await;
    let picture = Screen::connect(&server.ws_url("")).await.snapshot().await;
    assert!(silenced_ids(&picture.alerts).is_empty());
    server.stop_and_drop_database().await;
}

#[tokio::test]
async fn delete_shows_the_alerts_again_at_once() {
    let (server, _files) = server().await;
    for id in ["sw-01", "sw-02", "rtr-01"] {
        let mut body = common::alert(id, "Kampala", "high");
        body["host"] = json!(id);
        server.post_ok(&body).await;
    }
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    // Active at once: the 201 comes once the alerts are marked.
    let s = silence(
        &server,
        json!({"matchers": [{"name": "host", "op": "=~", "value": "sw-.*"}],
               "duration": "1h", "comment": "switch upgrade"}),
    )
    .await;
    let listed = server.get_json("/api/v1/alerts").await;
    let alerts: Vec<Alert> = serde_json::from_value(listed).expect("alerts");
    assert_eq!(silenced_ids(&alerts), ["sw-01", "sw-02"]);
    let marked = silence_updates(&mut screen, 2).await;
    assert!(
        marked
            .values()
            .all(|a| a.silenced_by.as_deref() == Some(s.id.as_str()))
    );

    let response = server
        .http
        .delete(server.url(&format!("/api/v1/silences/{}", s.id)))
        .bearer_auth(USER)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(server.stored("sw-01").await.silenced_by.is_none());
    let unmarked = silence_updates(&mut screen, 2).await;
    assert!(unmarked.values().all(|a| a.silenced_by.is_none()));
    let marker = server.post_marker("Kampala").await;
    screen.expect_marker(&marker).await;
    server.stop_and_drop_database().await;
}

/// Two instances on one PostgreSQL database both run the silence clock:
/// each start and end reaches the screens of both instances once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_emit_each_change_once() {
    let Some(base) = postgres_url() else {
        println!("skipped: NOC_TEST_DATABASE_URL is not set");
        return;
    };
    let database = fresh_postgres_database(&base).await;
    let files = files();
    let flags = flags(&files);
    let mut servers = Vec::new();
    for _ in 0..2 {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        let server = TestServer::start_on(dir, database.clone(), "127.0.0.1:0", &flags);
        servers.push(server.await);
    }
    let alerts = 20;
    for i in 0..alerts {
        servers[i % 2]
            .post_ok(&common::alert(&format!("k{i}"), "Kilimanjaro", "high"))
            .await;
    }
    let mut screens = Vec::new();
    for server in &servers {
        let mut screen = Screen::connect(&server.ws_url("")).await;
        assert_eq!(screen.snapshot().await.alerts.len(), alerts);
        screens.push(screen);
    }
    let starts_at = Utc::now() + chrono::Duration::seconds(2);
    let ends_at = starts_at + chrono::Duration::seconds(2);
    let s = silence(
        &servers[0],
        json!({"matchers": [{"name": "site", "op": "=", "value": "kilimanjaro"}],
               "starts_at": at(starts_at), "ends_at": at(ends_at), "comment": "works"}),
    )
    .await;
    for screen in &mut screens {
        let marked = silence_updates(screen, alerts).await;
        assert!(
            marked
                .values()
                .all(|a| a.silenced_by.as_deref() == Some(s.id.as_str()))
        );
    }
    until(ends_at).await;
    for screen in &mut screens {
        let unmarked = silence_updates(screen, alerts).await;
        assert!(unmarked.values().all(|a| a.silenced_by.is_none()));
    }
    // Nothing more: no instance emitted a change twice.
    let marker = servers[1].post_marker("Kampala").await;
    for screen in &mut screens {
        screen.expect_marker(&marker).await;
    }
    for server in servers {
        server.stop().await;
    }
    common::drop_postgres_database(&database).await;
}

/// The figure of docs/benchmarks.md: 10,000 active alerts that one silence
/// starts and ends on; how long after its time a screen has been told of
/// every change (events, or a resync when it fell behind). Run in release:
/// `cargo test --release -p noc-server --test silences -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run in release"]
async fn ten_thousand_alerts_change_within_a_second() {
    let (server, _files) = server().await;
    let alerts = 10_000;
    for first in (0..alerts).step_by(500) {
        let body: Vec<_> = (first..first + 500)
            .map(|i| common::alert(&format!("a{i}"), "Kilimanjaro", "high"))
            .collect();
        server.post_ok(&json!(body)).await;
    }
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    let starts_at = Utc::now() + chrono::Duration::seconds(2);
    let ends_at = starts_at + chrono::Duration::seconds(5);
    silence(
        &server,
        json!({"matchers": [{"name": "site", "op": "=", "value": "Kilimanjaro"}],
               "starts_at": at(starts_at), "ends_at": at(ends_at), "comment": "bench"}),
    )
    .await;
    for (what, t, silenced) in [("start", starts_at, true), ("end", ends_at, false)] {
        // Told when every alert's event came, or a resync (the screen fell
        // behind) shows the whole picture changed. Events of the phase
        // before, late in the screen's queue, do not count.
        let mut told = std::collections::HashSet::new();
        while told.len() < alerts {
            match screen.next().await {
                noc_shared::ServerMessage::Snapshot(s) => {
                    if s.alerts.iter().all(|a| a.silenced_by.is_some() == silenced) {
                        break;
                    }
                }
                msg => {
                    let (_, e) = msg.as_alert_event().expect("an alert event");
                    if e.alert.silenced_by.is_some() == silenced {
                        told.insert(e.alert.id.clone());
                    }
                }
            }
        }
        let late = (Utc::now() - t).num_milliseconds();
        println!(
            "silence {what}: every change of {alerts} alerts on the screen {late} ms after its time"
        );
    }
    server.stop_and_drop_database().await;
}
