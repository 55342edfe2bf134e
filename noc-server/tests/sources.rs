//! `POST /internal/alertmanager` end to end: bodies shaped like the ones in
//! Alertmanager's and Grafana's documentation, posted to a real server, and
//! every mapped field checked through the REST API and on a screen.

mod common;

use std::path::PathBuf;

use common::{INGEST, Screen, TestServer};
use noc_shared::{Alert, EventKind, Severity, Status};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PATH: &str = "/internal/alertmanager";
const UNUSABLE: &str = "noc-unusable-entries";

/// Posts `body` to the Alertmanager endpoint with the ingest token.
async fn post(server: &TestServer, body: &Value) -> reqwest::Response {
    server
        .http
        .post(server.url(PATH))
        .bearer_auth(INGEST)
        .json(body)
        .send()
        .await
        .expect("POST /internal/alertmanager")
}

/// Posts, expects 200 with every entry used; returns the stored alerts.
async fn post_ok(server: &TestServer, body: &Value) -> Vec<Alert> {
    let response = post(server, body).await;
    let status = response.status();
    let unusable = response.headers().get(UNUSABLE).cloned();
    let text = response.text().await.expect("answer");
    assert_eq!(status, 200, "{text}");
    assert_eq!(unusable, None, "every entry is usable");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("an array of alerts: {e}: {text}"))
}

/// A screen for every site, past its first snapshot.
async fn screen(server: &TestServer) -> Screen {
    let mut screen = Screen::connect(&server.ws_url("client=sources-test")).await;
    screen.snapshot().await;
    screen
}

/// Checks the fields the mapping gives, and that the alert is freshly
/// stored as `status` with no acknowledgement.
#[allow(clippy::too_many_arguments)]
fn check(
    alert: &Alert,
    id: &str,
    site: &str,
    severity: Severity,
    message: &str,
    host: Option<&str>,
    source: &str,
    status: Status,
) {
    assert_eq!(alert.id, id);
    assert_eq!(alert.site, site, "site of {id}");
    assert_eq!(alert.severity, severity, "severity of {id}");
    assert_eq!(alert.message, message, "message of {id}");
    assert_eq!(alert.host.as_deref(), host, "host of {id}");
    assert_eq!(alert.source, source, "source of {id}");
    assert_eq!(alert.status, status, "status of {id}");
    assert_eq!(alert.resolved_at.is_some(), status == Status::Resolved);
    assert_eq!((&alert.acked_by, alert.acked_at), (&None, None));
}

/// `am-` and the first 16 hex digits of the SHA-256 of the sorted
/// `name=value` lines, computed here independently of the server.
fn hashed_id(labels: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v}")).collect();
    lines.sort();
    let digest = hex::encode(Sha256::digest(lines.join("\n").as_bytes()));
    format!("am-{}", &digest[..16])
}

/// A current Alertmanager's body (version 4, with fingerprints, as in the
/// webhook_config documentation) for the group `alertname=NodeDown`.
fn alertmanager_group(alerts: Value) -> Value {
    json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"NodeDown\"}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "noc",
        "groupLabels": { "alertname": "NodeDown" },
        "commonLabels": { "alertname": "NodeDown", "job": "node" },
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.kili:9093",
        "alerts": alerts
    })
}

fn node_down(status: &str, fingerprint: &str, site: &str, severity: &str, instance: &str) -> Value {
    json!({
        "status": status,
        "labels": {
            "alertname": "NodeDown", "job": "node", "site": site,
            "severity": severity, "instance": instance
        },
        "annotations": {
            "summary": format!("{instance} is down"),
            "description": format!("{instance} has not answered for 5 minutes."),
            "runbook_url": "https://wiki.example/runbooks/node-down"
        },
        "startsAt": "2026-11-28T19:40:00.000Z",
        "endsAt": if status == "resolved" { "2026-11-28T19:55:00.000Z" } else { "0001-01-01T00:00:00Z" },
        "generatorURL": "http://prometheus.kili:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": fingerprint
    })
}

#[tokio::test]
async fn alertmanager_group_fires_then_resolves_one_alert() {
    let server = TestServer::start(&[]).await;
    let mut screen = screen(&server).await;

    let body = alertmanager_group(json!([
        node_down(
            "firing",
            "3b6f1c2a9d8e7f01",
            "Kilimanjaro",
            "critical",
            "sw-01.kili:9100"
        ),
        node_down(
            "firing",
            "77aa00bb11cc22dd",
            "Serengeti",
            "minor",
            "ap-07.sere:9100"
        ),
    ]));
    let answer = post_ok(&server, &body).await;
    assert_eq!(
        answer.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["am-3b6f1c2a9d8e7f01", "am-77aa00bb11cc22dd"],
        "the stored alerts, in the order of `alerts`"
    );
    let kili = server.stored("am-3b6f1c2a9d8e7f01").await;
    check(
        &kili,
        "am-3b6f1c2a9d8e7f01",
        "Kilimanjaro",
        Severity::Critical,
        "sw-01.kili:9100 is down",
        Some("sw-01.kili:9100"),
        "alertmanager",
        Status::Active,
    );
    assert_eq!(answer[0], kili, "the answer is the stored alert");
    let sere = server.stored("am-77aa00bb11cc22dd").await;
    check(
        &sere,
        "am-77aa00bb11cc22dd",
        "Serengeti",
        Severity::Average,
        "ap-07.sere:9100 is down",
        Some("ap-07.sere:9100"),
        "alertmanager",
        Status::Active,
    );
    for want in [&kili, &sere] {
        let (kind, got) = screen.next_alert().await;
        assert_eq!((kind, &got), (EventKind::Created, want));
    }

    // The next notification of the group: one resolved, one still firing.
    let body = alertmanager_group(json!([
        node_down(
            "resolved",
            "3b6f1c2a9d8e7f01",
            "Kilimanjaro",
            "critical",
            "sw-01.kili:9100"
        ),
        node_down(
            "firing",
            "77aa00bb11cc22dd",
            "Serengeti",
            "minor",
            "ap-07.sere:9100"
        ),
    ]));
    post_ok(&server, &body).await;
    let resolved = server.stored("am-3b6f1c2a9d8e7f01").await;
    check(
        &resolved,
        "am-3b6f1c2a9d8e7f01",
        "Kilimanjaro",
        Severity::Critical,
        "sw-01.kili:9100 is down",
        Some("sw-01.kili:9100"),
        "alertmanager",
        Status::Resolved,
    );
    assert_eq!(resolved.created_at, kili.created_at);
    let (kind, got) = screen.next_alert().await;
    assert_eq!(
        (kind, got.id.as_str()),
        (EventKind::Resolved, resolved.id.as_str())
    );
    let (kind, got) = screen.next_alert().await;
    assert_eq!(
        (kind, got.id.as_str()),
        (EventKind::Updated, sere.id.as_str())
    );
    assert_eq!(server.stored(&sere.id).await.status, Status::Active);

    // Alertmanager sends the resolved alert again: nothing changes.
    post_ok(&server, &body).await;
    let (kind, got) = screen.next_alert().await;
    assert_eq!(
        (kind, got.id.as_str()),
        (EventKind::Updated, sere.id.as_str())
    );
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;
    server.stop().await;
}

#[tokio::test]
async fn first_seen_resolved_entry_is_stored_resolved() {
    let server = TestServer::start(&[]).await;
    let mut screen = screen(&server).await;
    let body = alertmanager_group(json!([node_down(
        "resolved",
        "0123456789abcdef",
        "Kampala",
        "warning",
        "core-01.kla:9100"
    )]));
    let answer = post_ok(&server, &body).await;
    let alert = server.stored("am-0123456789abcdef").await;
    check(
        &alert,
        "am-0123456789abcdef",
        "Kampala",
        Severity::Warning,
        "core-01.kla:9100 is down",
        Some("core-01.kla:9100"),
        "alertmanager",
        Status::Resolved,
    );
    assert_eq!(answer, std::slice::from_ref(&alert));
    let (kind, got) = screen.next_alert().await;
    assert_eq!((kind, got), (EventKind::Resolved, alert));
    // Resolving a resolved alert answers 200 and emits nothing.
    post_ok(&server, &body).await;
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;
    server.stop().await;
}

#[tokio::test]
async fn missing_and_unknown_labels_fall_back_and_no_fingerprint_hashes_the_labels() {
    let server = TestServer::start(&[]).await;
    // An older Alertmanager: no fingerprints, no truncatedAlerts.
    let body = json!({
        "version": "4",
        "status": "firing",
        "receiver": "noc",
        "groupKey": "{}:{}",
        "alerts": [
            // Only an alertname: everything else falls back.
            { "status": "firing", "labels": { "alertname": "thing_dead" },
              "annotations": {}, "startsAt": "2026-11-28T19:40:00Z",
              "endsAt": "0001-01-01T00:00:00Z" },
            // A severity this server does not know, a description only.
            { "status": "firing",
              "labels": { "alertname": "DiskFull", "severity": "page", "site": "Entebbe" },
              "annotations": { "description": "/var is 97% full" } },
            // A severity alias, a blank summary, no alertname.
            { "status": "firing",
              "labels": { "job": "snmp", "severity": "Disaster", "instance": "10.1.1.1" },
              "annotations": { "summary": "  " } }
        ]
    });
    let answer = post_ok(&server, &body).await;
    let thing = hashed_id(&[("alertname", "thing_dead")]);
    let disk = hashed_id(&[
        ("alertname", "DiskFull"),
        ("severity", "page"),
        ("site", "Entebbe"),
    ]);
    let snmp = hashed_id(&[
        ("job", "snmp"),
        ("severity", "Disaster"),
        ("instance", "10.1.1.1"),
    ]);
    assert_eq!(
        answer.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        [thing.clone(), disk.clone(), snmp.clone()]
    );
    check(
        &server.stored(&thing).await,
        &thing,
        "unknown",
        Severity::Warning,
        "thing_dead",
        None,
        "alertmanager",
        Status::Active,
    );
    check(
        &server.stored(&disk).await,
        &disk,
        "Entebbe",
        Severity::Warning,
        "/var is 97% full",
        None,
        "alertmanager",
        Status::Active,
    );
    check(
        &server.stored(&snmp).await,
        &snmp,
        "unknown",
        Severity::Critical,
        r#"{instance="10.1.1.1", job="snmp", severity="Disaster"}"#,
        Some("10.1.1.1"),
        "alertmanager",
        Status::Active,
    );
    // The same labels again are the same alert, never a second one.
    post_ok(&server, &body).await;
    let all = server.get_json("/api/v1/alerts?status=all").await;
    assert_eq!(all.as_array().map(Vec::len), Some(3), "{all}");
    server.stop().await;
}

#[tokio::test]
async fn over_long_labels_and_annotations_are_cut_not_refused() {
    let server = TestServer::start(&[]).await;
    let site = format!("Dar es Salaam {}", "ü".repeat(200));
    let instance = "h".repeat(300);
    let summary = format!("{} tail", "ж".repeat(5000));
    let body = alertmanager_group(json!([{
        "status": "firing",
        "labels": { "alertname": "Long", "site": site, "instance": instance,
                    "severity": "x".repeat(1000) },
        "annotations": { "summary": summary },
        "fingerprint": "aaaabbbbccccdddd"
    }]));
    post_ok(&server, &body).await;
    let alert = server.stored("am-aaaabbbbccccdddd").await;
    check(
        &alert,
        "am-aaaabbbbccccdddd",
        &site.chars().take(100).collect::<String>(),
        Severity::Warning,
        &"ж".repeat(4096),
        Some(&"h".repeat(255)),
        "alertmanager",
        Status::Active,
    );
    server.stop().await;
}

#[tokio::test]
async fn grafana_contact_point_body() {
    let server = TestServer::start(&[]).await;
    let mut screen = screen(&server).await;
    // As in Grafana's webhook notifier documentation, with the site and
    // severity labels a NOC adds to its alert rules.
    let body = json!({
        "receiver": "NOC",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": { "alertname": "High memory usage", "team": "blue", "zone": "us-1",
                            "site": "Arusha", "severity": "high", "instance": "db-02.aru" },
                "annotations": { "description": "The system has high memory usage",
                                 "runbook_url": "https://myrunbook.com/runbook/1234",
                                 "summary": "This alert was triggered for zone us-1" },
                "startsAt": "2021-10-12T09:51:03.157076+02:00",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
                "fingerprint": "c6eadffa33fcdf37",
                "silenceURL": "https://play.grafana.org/alerting/silence/new",
                "dashboardURL": "", "panelURL": "",
                "values": { "B": 44.23943737541908, "C": 1 }
            },
            {
                "status": "resolved",
                "labels": { "alertname": "High CPU usage", "team": "blue", "zone": "eu-1" },
                "annotations": { "description": "The system has high CPU usage" },
                "startsAt": "2021-10-12T09:56:03.157076+02:00",
                "endsAt": "2021-10-12T10:06:03.157076+02:00",
                "fingerprint": "bc97ff14869b13e3",
                "values": { "B": 44.23943737541908, "C": 1 }
            }
        ],
        "groupLabels": {},
        "commonLabels": { "team": "blue" },
        "commonAnnotations": {},
        "externalURL": "https://play.grafana.org/",
        "version": "1",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "title": "[FIRING:1, RESOLVED:1]  (blue)",
        "state": "alerting",
        "message": "**Firing** ..."
    });
    let answer = post_ok(&server, &body).await;
    assert_eq!(answer.len(), 2);
    let memory = server.stored("am-c6eadffa33fcdf37").await;
    check(
        &memory,
        "am-c6eadffa33fcdf37",
        "Arusha",
        Severity::High,
        "This alert was triggered for zone us-1",
        Some("db-02.aru"),
        "grafana",
        Status::Active,
    );
    let cpu = server.stored("am-bc97ff14869b13e3").await;
    check(
        &cpu,
        "am-bc97ff14869b13e3",
        "unknown",
        Severity::Warning,
        "The system has high CPU usage",
        None,
        "grafana",
        Status::Resolved,
    );
    assert_eq!(screen.next_alert().await, (EventKind::Created, memory));
    assert_eq!(screen.next_alert().await, (EventKind::Resolved, cpu));
    server.stop().await;
}

/// The bodies in `shared/examples/`, when that folder is there.
fn example(name: &str) -> Option<Value> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "shared",
        "examples",
        name,
    ]
    .iter()
    .collect();
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("example is JSON")),
        Err(e) => {
            println!("skipped: cannot read {}: {e}", path.display());
            None
        }
    }
}

#[tokio::test]
async fn example_bodies_from_the_shared_folder() {
    let (Some(am), Some(grafana)) = (example("alertmanager-v4.json"), example("grafana.json"))
    else {
        return;
    };
    let server = TestServer::start(&[]).await;
    let answer = post_ok(&server, &am).await;
    let id = hashed_id(&[("alertname", "thing_dead"), ("severity", "critical")]);
    assert_eq!(answer.len(), 1);
    check(
        &server.stored(&id).await,
        &id,
        "unknown",
        Severity::Critical,
        "No things for over 10 minutes",
        None,
        "alertmanager",
        Status::Active,
    );
    let answer = post_ok(&server, &grafana).await;
    assert_eq!(answer.len(), 2);
    for (id, message) in [
        (
            "am-c6eadffa33fcdf37",
            "This alert was triggered for zone us-1",
        ),
        (
            "am-bc97ff14869b13e3",
            "This alert was triggered for zone eu-1",
        ),
    ] {
        check(
            &server.stored(id).await,
            id,
            "unknown",
            Severity::Warning,
            message,
            None,
            "grafana",
            Status::Active,
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn unusable_entries_are_named_and_the_others_stored() {
    let server = TestServer::start(&[]).await;
    let body = alertmanager_group(json!([
        "not an alert",
        node_down("firing", "1111222233334444", "Moshi", "high", "r1.moshi"),
        { "status": "firing", "annotations": { "summary": "no labels, no fingerprint" } }
    ]));
    let response = post(&server, &body).await;
    assert_eq!(response.status(), 200);
    let header = response
        .headers()
        .get(UNUSABLE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("the unusable entries are named");
    assert!(
        header.starts_with("alerts[0]: not a JSON object; alerts[2]: "),
        "{header}"
    );
    let answer: Vec<Alert> = response.json().await.expect("stored alerts");
    assert_eq!(
        answer.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["am-1111222233334444"]
    );
    assert_eq!(server.stored("am-1111222233334444").await.site, "Moshi");

    // Nothing usable at all: 422 naming the entries, nothing stored.
    let response = post(&server, &json!({ "alerts": [null, {}] })).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.expect("JSON error");
    let text = error["error"].as_str().expect("error text");
    assert!(
        text.contains("alerts[0]") && text.contains("alerts[1]"),
        "{text}"
    );
    let all = server.get_json("/api/v1/alerts?status=all").await;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
    server.stop().await;
}

#[tokio::test]
async fn refusals_follow_the_contract_order() {
    let server = TestServer::start(&[]).await;
    let url = server.url(PATH);
    let send = |token: Option<&'static str>, content_type: &'static str, body: &'static str| {
        let mut request = server
            .http
            .post(&url)
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.expect("POST");
            let status = response.status().as_u16();
            let error: Value = response.json().await.expect("every error is JSON");
            (
                status,
                error["error"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    assert_eq!(send(None, "application/json", "{}").await.0, 401);
    assert_eq!(send(Some("wrong"), "text/plain", "x").await.0, 401);
    assert_eq!(send(Some(INGEST), "text/plain", "{}").await.0, 415);
    assert_eq!(send(Some(INGEST), "application/json", "{").await.0, 400);
    for (body, says) in [
        ("[]", "must be a JSON object"),
        ("{\"receiver\":\"noc\"}", "no \"alerts\" array"),
        ("{\"alerts\":\"x\"}", "must be an array"),
    ] {
        let (status, error) = send(Some(INGEST), "application/json", body).await;
        assert_eq!(status, 422, "{body}");
        assert!(error.contains(says), "{body}: {error}");
    }
    // An empty group stores nothing and is not an error.
    let response = post(&server, &json!({ "alerts": [] })).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.expect("JSON"), json!([]));
    let too_big = "x".repeat(2048);
    let small = TestServer::start(&["--max-body", "1024"]).await;
    let response = small
        .http
        .post(small.url(PATH))
        .bearer_auth(INGEST)
        .header("content-type", "application/json")
        .body(format!("{{\"alerts\":[],\"pad\":\"{too_big}\"}}"))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 413);
    small.stop().await;
    server.stop().await;
}
