//! A real Prometheus Alertmanager, configured with a webhook receiver that
//! points at the server: an alert pushed into its API lands with the right
//! fields, and its resolution resolves it.

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
