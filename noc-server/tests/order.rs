//! Part two of the alert on a real server: writes in the source's order
//! (`at`), expiry by `ttl` on the clock, alerts for every site, and the
//! fields ingest refuses or takes.

mod common;

use std::time::{Duration, Instant};

use common::{Screen, TestServer, alert};
use noc_shared::{EventKind, EventReason, Status};
use serde_json::{Value, json};
use tempfile::NamedTempFile;

const USER: &str = "irene@noc.example";
const USER_TOKEN: &str = "irene-token";

/// A users file with one user, kept as long as the returned handle.
fn users_file() -> NamedTempFile {
    let file = NamedTempFile::new().expect("tempfile");
    std::fs::write(
        file.path(),
        format!("[[user]]\nemail = \"{USER}\"\ntoken = \"{USER_TOKEN}\"\n"),
    )
    .expect("write the users file");
    file
}

async fn start_with_user() -> (TestServer, NamedTempFile) {
    let users = users_file();
    let path = users.path().to_str().expect("utf-8").to_owned();
    (TestServer::start(&["--users-file", &path]).await, users)
}

fn with(mut body: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().expect("an object") {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn a_write_older_than_the_last_applied_is_stale_and_changes_nothing() {
    let server = TestServer::start(&[]).await;
    let problem = with(
        alert("zbx-1", "A", "high"),
        json!({"at": "2026-11-28T19:40:00Z"}),
    );
    server.post_ok(&problem).await;
    let recovery = json!({"id": "zbx-1", "event": "alert.resolved", "at": "2026-11-28T19:45:00Z"});
    server.post_ok(&recovery).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    let seq = screen.snapshot().await.seq;

    // The problem again, retried by its sender after its own recovery.
    let answer = server.post_ok(&problem).await;
    assert_eq!(answer["stale"], json!(true), "{answer}");
    assert_eq!(answer["status"], json!("resolved"), "{answer}");
    // In an array, only the stale entry says so.
    let both = server
        .post_ok(&json!([problem, alert("fresh", "A", "info")]))
        .await;
    assert_eq!(both[0]["stale"], json!(true), "{both}");
    assert!(both[1].get("stale").is_none(), "{both}");
    let (kind, created) = screen.next_alert().await;
    assert_eq!((kind, created.id.as_str()), (EventKind::Created, "fresh"));
    let marker = server.post_marker("A").await;
    assert_eq!(
        screen.expect_marker(&marker).await.seq,
        seq + 2,
        "the stale writes emitted nothing"
    );
    assert_eq!(server.stored("zbx-1").await.status, Status::Resolved);

    // A newer problem re-opens it; a write without `at` applies in arrival
    // order and keeps the last `at`, so the old problem is still stale.
    let newer = with(problem.clone(), json!({"at": "2026-11-28T20:00:00Z"}));
    assert!(server.post_ok(&newer).await.get("stale").is_none());
    assert_eq!(server.stored("zbx-1").await.status, Status::Active);
    let plain = server.post_ok(&alert("zbx-1", "A", "critical")).await;
    assert!(plain.get("stale").is_none(), "{plain}");
    assert_eq!(plain["occurrences"], json!(2), "{plain}");
    let old = server.post_ok(&problem).await;
    assert_eq!(old["stale"], json!(true), "{old}");
    assert_eq!(old["severity"], json!("critical"), "{old}");
    server.stop().await;
}

#[tokio::test]
async fn an_alert_with_a_ttl_resolves_by_itself_within_a_second() {
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    let posted = server
        .post_ok(&with(alert("tmp-1", "A", "warning"), json!({"ttl": 1.5})))
        .await;
    let expires_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(posted["expires_at"].clone()).expect("expires_at is set");
    screen.next_alert().await;
    let (kind, event) = screen.next_event().await;
    let now = chrono::Utc::now();
    assert_eq!(
        (kind, event.reason, event.alert.status),
        (
            EventKind::Resolved,
            Some(EventReason::Expired),
            Status::Resolved
        )
    );
    let late = now - expires_at;
    assert!(
        late >= chrono::Duration::zero() && late < chrono::Duration::milliseconds(1000),
        "resolved {late} after expires_at"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_later_write_moves_the_expiry_by_the_last_ttl() {
    let server = TestServer::start(&[]).await;
    let started = Instant::now();
    server
        .post_ok(&with(alert("tmp-2", "A", "warning"), json!({"ttl": "2s"})))
        .await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let moved = server.post_ok(&alert("tmp-2", "A", "warning")).await;
    let (kind, _) = screen.next_alert().await;
    assert_eq!(kind, EventKind::Updated);
    let (kind, event) = screen.next_event().await;
    assert_eq!(
        (kind, event.reason),
        (EventKind::Resolved, Some(EventReason::Expired))
    );
    assert!(
        started.elapsed() >= Duration::from_millis(3000),
        "expired at the first expires_at, not the moved one ({moved})"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_alert_for_every_site_reaches_every_screen() {
    let (server, _users) = start_with_user().await;
    let mut kili = Screen::connect(&server.ws_url("sites=Kilimanjaro")).await;
    let mut kampala = Screen::connect(&server.ws_url("sites=Kampala&min_severity=high")).await;
    let mut picky = Screen::connect(&server.ws_url("sites=Kampala&min_severity=critical")).await;
    for screen in [&mut kili, &mut kampala, &mut picky] {
        screen.snapshot().await;
    }
    let everywhere =
        json!({"id": "all-1", "site": "*", "severity": "high", "message": "Upstream transit down"});
    let response = server
        .http
        .post(server.url("/api/v1/alerts"))
        .bearer_auth(USER_TOKEN)
        .json(&everywhere)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    for screen in [&mut kili, &mut kampala] {
        let (kind, alert) = screen.next_alert().await;
        assert_eq!((kind, alert.id.as_str()), (EventKind::Created, "all-1"));
    }
    // Its severity is below this screen's minimum.
    let marker = server.post_marker("Kampala").await;
    picky.expect_marker(&marker).await;
    // Snapshots and the list API take it for any site too.
    let mut late = Screen::connect(&server.ws_url("sites=Serengeti")).await;
    let ids: Vec<String> = late
        .snapshot()
        .await
        .alerts
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, ["all-1"]);
    let listed = server.get_json("/api/v1/alerts?site=Entebbe").await;
    assert_eq!(listed[0]["id"], json!("all-1"), "{listed}");
    // A source may not post one.
    let refused = server.post(&everywhere).await;
    assert_eq!(refused.status(), 422);
    let error: Value = refused.json().await.expect("JSON");
    assert!(
        error["error"].as_str().is_some_and(|e| e.contains("users")),
        "{error}"
    );
    server.stop().await;
}

#[tokio::test]
async fn part_two_fields_are_stored_and_bad_ones_refused() {
    let server = TestServer::start(&[]).await;
    let full = with(
        alert("f-1", "A", "info"),
        json!({
            "host": "", "description": "Gi0/1 down; 120 customers",
            "url": "https://zabbix.example/tr_events.php?eventid=1",
            "labels": {"team": "core", "zabbix.eventid": "1"}
        }),
    );
    let stored = server.post_ok(&full).await;
    assert_eq!(stored["host"], Value::Null, "an empty host is no host");
    let kept = server.stored("f-1").await;
    assert_eq!(
        kept.description.as_deref(),
        Some("Gi0/1 down; 120 customers")
    );
    assert_eq!(kept.labels["zabbix.eventid"], "1");
    assert_eq!(kept.occurrences, 1);
    let count = server.alerts_in_store().await;
    for (bad, word) in [
        (json!({"url": "ftp://files.example/x"}), "url"),
        (json!({"url": "zabbix.example/x"}), "url"),
        (json!({"labels": {"team": 7}}), "label"),
        (json!({"labels": "team=core"}), "labels"),
        (json!({"ttl": "a while"}), "ttl"),
        (json!({"ttl": -1}), "ttl"),
        (json!({"at": "28/11/2026 19:40"}), "at"),
    ] {
        let response = server
            .post(&with(alert("f-2", "A", "info"), bad.clone()))
            .await;
        assert_eq!(response.status(), 422, "{bad}");
        let error: Value = response.json().await.expect("JSON");
        let message = error["error"].as_str().unwrap_or_default();
        assert!(message.contains(word), "{bad}: {message}");
    }
    assert_eq!(
        server.alerts_in_store().await,
        count,
        "nothing refused is stored"
    );
    server.stop().await;
}

/// One Alertmanager entry of the group `alertname=LinkDown`.
fn link_down(status: &str) -> Value {
    json!({
        "version": "4",
        "status": status,
        "receiver": "noc",
        "groupLabels": {"alertname": "LinkDown"},
        "alerts": [{
            "status": status,
            "labels": {"alertname": "LinkDown", "site": "A", "severity": "high", "instance": "sw-1"},
            "annotations": {"summary": "sw-1 uplink down"},
            "startsAt": "2026-11-28T19:40:00Z",
            "endsAt": if status == "resolved" { "2026-11-28T19:50:00Z" } else { "0001-01-01T00:00:00Z" },
            "fingerprint": "0a1b2c3d4e5f6071"
        }]
    })
}

/// Posts an Alertmanager body; returns its one stored alert as answered.
async fn post_alertmanager(server: &TestServer, body: &Value) -> Value {
    let response = server
        .http
        .post(server.url("/internal/alertmanager"))
        .bearer_auth(common::INGEST)
        .json(body)
        .send()
        .await
        .expect("POST /internal/alertmanager");
    assert_eq!(response.status(), 200);
    let mut answer: Value = response.json().await.expect("JSON");
    answer[0].take()
}

#[tokio::test]
async fn an_alertmanager_retry_of_the_firing_entry_after_its_resolution_is_stale() {
    let server = TestServer::start(&[]).await;
    let firing = post_alertmanager(&server, &link_down("firing")).await;
    assert_eq!(firing["status"], json!("active"), "{firing}");
    let resolved = post_alertmanager(&server, &link_down("resolved")).await;
    assert_eq!(resolved["status"], json!("resolved"), "{resolved}");
    let mut screen = Screen::connect(&server.ws_url("")).await;
    let seq = screen.snapshot().await.seq;

    // Its startsAt is older than the endsAt already applied.
    let retried = post_alertmanager(&server, &link_down("firing")).await;
    assert_eq!(retried["stale"], json!(true), "{retried}");
    assert_eq!(retried["status"], json!("resolved"), "{retried}");
    let marker = server.post_marker("A").await;
    assert_eq!(
        screen.expect_marker(&marker).await.seq,
        seq + 1,
        "the stale retry emitted nothing"
    );
    assert_eq!(
        server.stored("am-0a1b2c3d4e5f6071").await.status,
        Status::Resolved
    );
    server.stop().await;
}

/// Grafana's body when a contact point's "Test" button is pressed: one
/// firing alert `TestAlert` of instance `Grafana`, never resolved.
fn grafana_test_notification() -> Value {
    let now = chrono::Utc::now().to_rfc3339();
    let labels = json!({"alertname": "TestAlert", "instance": "Grafana"});
    let annotations = json!({"summary": "Notification test"});
    json!({
        "receiver": "noc", "status": "firing", "orgId": 1,
        "alerts": [{
            "status": "firing", "labels": labels, "annotations": annotations,
            "startsAt": now, "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "", "fingerprint": "57c6d9296de2ad39",
            "silenceURL": "http://grafana.kili:3000/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DTestAlert&matcher=instance%3DGrafana",
            "dashboardURL": "", "panelURL": "", "values": null,
            "valueString": "[ metric='foo' labels={instance=bar} value=10 ]"
        }],
        "groupLabels": labels, "commonLabels": labels, "commonAnnotations": annotations,
        "externalURL": "http://grafana.kili:3000/", "version": "1",
        "groupKey": "test-57c6d9296de2ad39-1764532800", "truncatedAlerts": 0,
        "title": "[FIRING:1]  (TestAlert Grafana)", "state": "alerting",
        "message": "**Firing**\n\nValue: [no value]\nLabels:\n - alertname = TestAlert\n - instance = Grafana\nAnnotations:\n - summary = Notification test\n"
    })
}

#[tokio::test]
async fn grafanas_test_notification_leaves_nothing_after_its_ttl() {
    // The 5 minutes of a real server, shortened by the hidden flag.
    let ttl = Duration::from_secs(2);
    let server = TestServer::start(&["--grafana-test-ttl", "2s"]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    let posted = Instant::now();
    let test = post_alertmanager(&server, &grafana_test_notification()).await;
    assert_eq!(test["source"], json!("grafana"), "{test}");
    let (kind, created) = screen.next_alert().await;
    assert_eq!(
        (kind, created.id.as_str()),
        (EventKind::Created, "am-57c6d9296de2ad39")
    );
    assert!(created.expires_at.is_some(), "{created:?}");

    let (kind, event) = screen.next_event().await;
    let waited = posted.elapsed();
    assert_eq!(
        (kind, event.reason, event.alert.id.as_str()),
        (
            EventKind::Resolved,
            Some(EventReason::Expired),
            "am-57c6d9296de2ad39"
        )
    );
    assert!(
        waited >= ttl - Duration::from_millis(50) && waited < ttl + Duration::from_secs(1),
        "resolved {waited:?} after the post"
    );
    let active = server.get_json("/api/v1/alerts?status=active").await;
    assert_eq!(active, json!([]), "nothing remains active");
    server.stop().await;
}
