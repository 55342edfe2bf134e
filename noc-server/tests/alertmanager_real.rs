//! A real Prometheus Alertmanager, configured with a webhook receiver that
//! points at the server: an alert pushed into its API lands with the right
//! fields, and its resolution resolves it; its Watchdog keeps its source
//! alive, and when it stops the screens hear that the source is silent;
//! when it is back the silent alert resolves, across a server restart too.

mod common;

use chrono::{SecondsFormat, Utc};
use common::alertmanager::{Alertmanager, alertmanager_binary};
use common::{Screen, TestServer, skip_or_fail};
use noc_shared::{Alert, EventKind, Severity, Status};
use serde_json::{Value, json};

async fn stored(server: &TestServer, id: &str) -> Option<Alert> {
    let response = server
        .http
        .get(server.url(&format!("/api/v1/alerts/{id}")))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

fn link_down(ends_at: Option<String>) -> Value {
    let mut alert = json!({
        "labels": {
            "alertname": "LinkDown", "job": "snmp", "site": "Kilimanjaro",
            "severity": "critical", "instance": "rtr-01.kili:9116"
        },
        "annotations": {
            "summary": "Uplink rtr-01 to Arusha is down",
            "description": "ifOperStatus of Gi0/1 has been down for 2 minutes."
        },
        "startsAt": (Utc::now() - chrono::Duration::minutes(2))
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        "generatorURL": "http://prometheus.kili:9090/graph?g0.expr=ifOperStatus"
    });
    if let (Some(ends_at), Some(map)) = (ends_at, alert.as_object_mut()) {
        map.insert("endsAt".into(), Value::String(ends_at));
    }
    json!([alert])
}

#[tokio::test]
async fn alert_pushed_into_alertmanager_lands_and_resolves() {
    let Some(binary) = alertmanager_binary() else {
        skip_or_fail(
            "NOC_REQUIRE_ALERTMANAGER",
            "Alertmanager (prometheus-alertmanager)",
        );
        return;
    };
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("sites=Kilimanjaro")).await;
    screen.snapshot().await;
    let am = Alertmanager::start(&binary, &server.url("/internal/alertmanager")).await;

    am.push(&link_down(None)).await;
    // Alertmanager's own identity of the alert, which the id must carry.
    let http = reqwest::Client::new();
    let fingerprint: String = am
        .wait_for("the alert in Alertmanager", || async {
            let alerts: Value = http
                .get(format!("{}/api/v2/alerts", am.base))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            alerts
                .as_array()?
                .iter()
                .find(|a| a["labels"]["alertname"] == "LinkDown")?["fingerprint"]
                .as_str()
                .map(str::to_owned)
        })
        .await;
    let id = format!("am-{fingerprint}");

    let alert = am
        .wait_for("the alert on the server", || stored(&server, &id))
        .await;
    assert_eq!(
        (
            alert.site.as_str(),
            alert.severity,
            alert.message.as_str(),
            alert.host.as_deref(),
            alert.source.as_str(),
            alert.status,
        ),
        (
            "Kilimanjaro",
            Severity::Critical,
            "Uplink rtr-01 to Arusha is down",
            Some("rtr-01.kili:9116"),
            "alertmanager",
            Status::Active,
        )
    );
    let msg = screen.next().await;
    let (kind, event) = msg.as_alert_event().expect("an alert event");
    assert_eq!(
        (kind, event.alert.id.as_str()),
        (EventKind::Created, id.as_str())
    );

    // Prometheus tells Alertmanager the alert has ended.
    let ended =
        (Utc::now() - chrono::Duration::seconds(1)).to_rfc3339_opts(SecondsFormat::Millis, true);
    am.push(&link_down(Some(ended))).await;
    let resolved = am
        .wait_for("the alert to be resolved on the server", || async {
            stored(&server, &id)
                .await
                .filter(|a| a.status == Status::Resolved)
        })
        .await;
    assert_eq!(resolved.message, "Uplink rtr-01 to Arusha is down");
    assert_eq!(resolved.created_at, alert.created_at);
    // Alertmanager may send the unchanged group again before it resolves;
    // each is an update of the same alert, and the last event resolves it.
    loop {
        let msg = screen.next().await;
        let (kind, event) = msg.as_alert_event().expect("an alert event");
        assert_eq!(event.alert.id, id, "one alert, never a second one");
        match kind {
            EventKind::Resolved => break,
            EventKind::Updated => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    let all = server.get_json("/api/v1/alerts?status=all").await;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
    drop(am);
    server.stop().await;
}

#[tokio::test]
async fn the_watchdog_keeps_the_source_ok_and_its_end_raises_the_silent_alert() {
    let Some(binary) = alertmanager_binary() else {
        skip_or_fail(
            "NOC_REQUIRE_ALERTMANAGER",
            "Alertmanager (prometheus-alertmanager)",
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        "[[source]]\nname = \"prom-dc1\"\nkind = \"alertmanager\"\ntoken = \"prom-token\"\nheartbeat = \"3s\"\n",
    )
    .expect("write sources.toml");
    let server = TestServer::start(&["--sources-file", sources.to_str().expect("utf-8")]).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;
    let am = Alertmanager::start_as(
        &binary,
        &server.url("/internal/alertmanager"),
        "prom-token",
        "1s",
    )
    .await;
    // As Prometheus does with an always-firing rule: the same alert again
    // and again, each time with an end a little ahead.
    let watchdog = json!([{
        "labels": { "alertname": "Watchdog", "severity": "none" },
        "annotations": { "summary": "The alerting pipeline works" },
        "endsAt": (Utc::now() + chrono::Duration::minutes(5))
            .to_rfc3339_opts(SecondsFormat::Millis, true),
    }]);
    let pushing = {
        let (base, watchdog) = (am.base.clone(), watchdog.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let _ = http
                    .post(format!("{base}/api/v2/alerts"))
                    .json(&watchdog)
                    .send()
                    .await;
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        })
    };
    let state = || async {
        server.get_json("/api/v1/sources").await[0]["state"]
            .as_str()
            .map(str::to_owned)
    };
    am.wait_for("Alertmanager's first watchdog", || async {
        (state().await.as_deref() == Some("ok")).then_some(())
    })
    .await;
    // Twice the heartbeat on the watchdog alone: still ok, nothing stored,
    // no silent alert (the next event is a marker).
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert_eq!(state().await.as_deref(), Some("ok"));
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;
    assert_eq!(
        server.alerts_in_store().await,
        1,
        "only the marker is stored"
    );

    pushing.abort();
    am.stop().await;
    let stopped = std::time::Instant::now();
    let (kind, alert) = common::within("the silent-source alert", screen.next_alert()).await;
    assert_eq!(
        (kind, alert.id.as_str()),
        (EventKind::Created, "source-silent-prom-dc1")
    );
    assert!(
        stopped.elapsed() <= std::time::Duration::from_secs(4),
        "raised {:?} after Alertmanager stopped (heartbeat 3s)",
        stopped.elapsed()
    );
    assert_eq!(alert.severity, Severity::Critical);
    assert_eq!(alert.site, "*");
    assert_eq!(state().await.as_deref(), Some("silent"));
}

/// An Alertmanager for `prom-dc1` (token `prom-token`) sending its Watchdog
/// to `server` every second, as an always-firing rule makes it do.
async fn watchdog_sender(binary: &std::path::Path, server: &TestServer) -> Alertmanager {
    let am = Alertmanager::start_as(
        binary,
        &server.url("/internal/alertmanager"),
        "prom-token",
        "1s",
    )
    .await;
    am.push(&json!([{
        "labels": { "alertname": "Watchdog", "severity": "none" },
        "annotations": { "summary": "The alerting pipeline works" },
        "endsAt": (Utc::now() + chrono::Duration::minutes(5))
            .to_rfc3339_opts(SecondsFormat::Millis, true),
    }]))
    .await;
    am
}

/// The next event on `screen`, which must be about the silent-source alert.
async fn silent_alert_event(screen: &mut Screen) -> (EventKind, Alert) {
    let (kind, alert) = common::within("the silent-source alert", screen.next_alert()).await;
    assert_eq!(alert.id, "source-silent-prom-dc1", "{kind:?} {alert:?}");
    (kind, alert)
}

#[tokio::test]
async fn alertmanager_back_resolves_the_silent_alert_across_a_server_restart() {
    let Some(binary) = alertmanager_binary() else {
        skip_or_fail(
            "NOC_REQUIRE_ALERTMANAGER",
            "Alertmanager (prometheus-alertmanager)",
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        "[[source]]\nname = \"prom-dc1\"\nkind = \"alertmanager\"\ntoken = \"prom-token\"\nheartbeat = \"2s\"\n",
    )
    .expect("write sources.toml");
    let flags = ["--sources-file", sources.to_str().expect("utf-8")];
    let server = TestServer::start(&flags).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    screen.snapshot().await;

    // Heard, then silent: raised; back: resolved.
    let am = watchdog_sender(&binary, &server).await;
    am.wait_for("Alertmanager's first watchdog", || async {
        (server.get_json("/api/v1/sources").await[0]["state"] == "ok").then_some(())
    })
    .await;
    am.stop().await;
    assert_eq!(silent_alert_event(&mut screen).await.0, EventKind::Created);
    let am = watchdog_sender(&binary, &server).await;
    let (kind, alert) = silent_alert_event(&mut screen).await;
    assert_eq!(
        (kind, alert.status),
        (EventKind::Resolved, Status::Resolved)
    );

    // Silent again, and the server restarts meanwhile: the alert stays.
    am.stop().await;
    let (_, raised) = silent_alert_event(&mut screen).await;
    assert_eq!(raised.status, Status::Active);
    let (dir_kept, database, addr) = (
        std::sync::Arc::clone(&server.dir),
        server.database.clone(),
        server.addr,
    );
    server.stop().await;
    let server = TestServer::start_on(dir_kept, database, &addr.to_string(), &flags).await;
    let mut screen = Screen::connect(&server.ws_url("")).await;
    let snapshot = screen.snapshot().await;
    let kept: Vec<(&str, Status)> = snapshot
        .alerts
        .iter()
        .map(|a| (a.id.as_str(), a.status))
        .collect();
    assert_eq!(kept, [("source-silent-prom-dc1", Status::Active)]);
    let am = watchdog_sender(&binary, &server).await;
    let (kind, alert) = silent_alert_event(&mut screen).await;
    assert_eq!(
        (kind, alert.status),
        (EventKind::Resolved, Status::Resolved)
    );
    assert_eq!(
        server.get_json("/api/v1/sources").await[0]["state"],
        json!("ok")
    );
    am.stop().await;
    server.stop().await;
}
