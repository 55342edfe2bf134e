//! Tests of the Alertmanager and Grafana mapping.

use super::*;
use serde_json::json;

fn one(body: Value) -> AlertInput {
    let mut mapped = map_body(&body).expect("a webhook body");
    assert!(mapped.unusable.is_empty(), "{:?}", mapped.unusable);
    assert_eq!(mapped.inputs.len(), 1);
    mapped.inputs.remove(0)
}

fn entry(entry: Value) -> AlertInput {
    one(json!({ "version": "4", "status": "firing", "alerts": [entry] }))
}

#[test]
fn maps_every_field_of_a_firing_alert() {
    let input = entry(json!({
        "status": "firing",
        "labels": {
            "alertname": "InstanceDown", "site": "Kilimanjaro",
            "severity": "Disaster", "instance": "sw-01.kili:9100"
        },
        "annotations": { "summary": "Core switch sw-01 unreachable", "description": "d" },
        "fingerprint": "c6eadffa33fcdf37",
        "startsAt": "2026-11-28T19:40:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up"
    }));
    let labels = [
        ("alertname", "InstanceDown"),
        ("instance", "sw-01.kili:9100"),
        ("severity", "Disaster"),
        ("site", "Kilimanjaro"),
    ];
    assert_eq!(
        input,
        AlertInput {
            id: Some("am-c6eadffa33fcdf37".into()),
            site: Some("Kilimanjaro".into()),
            severity: Some(Severity::Critical),
            message: Some("Core switch sw-01 unreachable".into()),
            host: Some("sw-01.kili:9100".into()),
            source: Some("alertmanager".into()),
            description: Some("d".into()),
            url: Some("http://prometheus.example:9090/graph?g0.expr=up".into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            ),
            ttl: None,
            at: Some("2026-11-28T19:40:00Z".parse().expect("time")),
            event: EventKind::Created,
            ack: None,
        }
    );
}

#[test]
fn grafana_links_the_panel_then_the_dashboard_then_the_rule() {
    // Grafana's shape: empty panel and dashboard links for a rule with no
    // panel, times with microseconds and an offset.
    let first = one(json!({"orgId": 1, "status": "firing", "alerts": [{
        "status": "firing", "fingerprint": "c6",
        "labels": { "alertname": "Disk full", "team": "storage", "zone": "tz-1" },
        "annotations": { "summary": "Disk full in tz-1", "description": "/var at 98%" },
        "startsAt": "2026-10-12T09:51:03.157076+02:00", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://grafana.example/alerting/1afz/edit",
        "dashboardURL": "", "panelURL": "", "values": { "B": 98.1 }
    }]}));
    assert_eq!(
        first.url.as_deref(),
        Some("https://grafana.example/alerting/1afz/edit")
    );
    assert_eq!(first.description.as_deref(), Some("/var at 98%"));
    assert_eq!(first.labels.as_ref().map(|l| l.len()), Some(3));
    assert_eq!(
        first.at,
        Some("2026-10-12T07:51:03.157Z".parse().expect("time"))
    );
    let with = |entry: Value| one(json!({"orgId": 1, "alerts": [entry]})).url;
    let urls = json!({"fingerprint": "f", "labels": {"a": "b"},
        "panelURL": "https://g.example/d/1?viewPanel=2", "dashboardURL": "https://g.example/d/1",
        "generatorURL": "https://g.example/alerting/1/edit"});
    assert_eq!(
        with(urls.clone()).as_deref(),
        Some("https://g.example/d/1?viewPanel=2")
    );
    let mut no_panel = urls.clone();
    no_panel["panelURL"] = json!("");
    assert_eq!(with(no_panel).as_deref(), Some("https://g.example/d/1"));
    let mut not_web = urls;
    not_web["panelURL"] = json!("javascript:alert(1)");
    assert_eq!(with(not_web).as_deref(), Some("https://g.example/d/1"));
}

#[test]
fn resolved_entries_take_ends_at_and_every_site_is_unknown() {
    let input = entry(json!({
        "status": "resolved", "fingerprint": "f",
        "labels": { "alertname": "A", "site": "*" },
        "annotations": { "description": "only a description" },
        "startsAt": "2026-11-28T19:40:00Z", "endsAt": "2026-11-28T19:45:00Z"
    }));
    assert_eq!(
        input.at,
        Some("2026-11-28T19:45:00Z".parse().expect("time"))
    );
    assert_eq!(input.site.as_deref(), Some(UNKNOWN_SITE));
    assert_eq!(input.message.as_deref(), Some("only a description"));
    assert_eq!(input.description, None, "the description is the message");
}

#[test]
fn grafana_test_notification_goes_by_itself() {
    let test = one(json!({"orgId": 1, "alerts": [{ "fingerprint": "t",
        "labels": { "alertname": "TestAlert", "instance": "Grafana" } }]}));
    assert_eq!(test.ttl, Some(TEST_NOTIFICATION_TTL));
    let real = entry(json!({ "fingerprint": "t", "labels": { "alertname": "TestAlert" } }));
    assert_eq!(real.ttl, None);
}

#[test]
fn labels_are_cut_not_refused() {
    let mut labels = serde_json::Map::new();
    for i in 0..100 {
        labels.insert(format!("l{i:03}"), json!("v"));
    }
    labels.insert("long".into(), json!("x".repeat(MAX_LABEL_VALUE + 9)));
    labels.insert("n".into(), json!(5));
    let input = entry(json!({ "fingerprint": "f", "labels": labels }));
    let kept = input.labels.expect("labels");
    assert_eq!(kept.len(), MAX_LABELS);
    let input = entry(json!({ "fingerprint": "f",
        "labels": { "long": "x".repeat(MAX_LABEL_VALUE + 9), "n": 5 } }));
    let kept = input.labels.expect("labels");
    assert_eq!(
        (kept["long"].len(), kept["n"].as_str()),
        (MAX_LABEL_VALUE, "5")
    );
}

#[test]
fn each_entry_by_its_own_status() {
    let mapped = map_body(&json!({
        "status": "firing",
        "alerts": [
            { "status": "resolved", "labels": { "alertname": "A" }, "fingerprint": "1" },
            { "status": "firing", "labels": { "alertname": "B" }, "fingerprint": "2" },
            { "status": "RESOLVED", "labels": { "alertname": "C" }, "fingerprint": "3" },
            { "labels": { "alertname": "D" }, "fingerprint": "4" }
        ]
    }))
    .expect("mapped");
    let events: Vec<EventKind> = mapped.inputs.iter().map(|i| i.event).collect();
    assert_eq!(
        events,
        [
            EventKind::Resolved,
            EventKind::Created,
            EventKind::Resolved,
            EventKind::Created
        ]
    );
    // A resolve carries every field, so a first-seen one can be stored.
    assert!(mapped.inputs[0].site.is_some() && mapped.inputs[0].message.is_some());
}

#[test]
fn missing_labels_fall_back() {
    let input = entry(
        json!({ "status": "firing", "labels": { "alertname": "thing_dead" },
                              "fingerprint": "f" }),
    );
    assert_eq!(input.site.as_deref(), Some(UNKNOWN_SITE));
    assert_eq!(input.severity, Some(DEFAULT_SEVERITY));
    assert_eq!(input.message.as_deref(), Some("thing_dead"));
    assert_eq!(input.host, None);
    let unknown = entry(json!({ "labels": { "severity": "page", "site": "  " },
                                "fingerprint": "f" }));
    assert_eq!(unknown.severity, Some(DEFAULT_SEVERITY));
    assert_eq!(unknown.site.as_deref(), Some(UNKNOWN_SITE));
}

#[test]
fn severity_aliases() {
    for (label, severity) in [
        ("critical", Severity::Critical),
        ("major", Severity::High),
        ("error", Severity::High),
        ("minor", Severity::Average),
        ("WARNING", Severity::Warning),
        ("not classified", Severity::Info),
        ("information", Severity::Info),
    ] {
        let input = entry(json!({ "labels": { "severity": label }, "fingerprint": "f" }));
        assert_eq!(input.severity, Some(severity), "{label}");
    }
}

#[test]
fn message_prefers_summary_then_description_then_alertname() {
    let labels = json!({ "alertname": "name", "job": "node" });
    let with = |annotations: Value| {
        entry(json!({ "labels": labels, "annotations": annotations, "fingerprint": "f" })).message
    };
    assert_eq!(
        with(json!({"summary": "s", "description": "d"})).as_deref(),
        Some("s")
    );
    assert_eq!(
        with(json!({"summary": " ", "description": "d"})).as_deref(),
        Some("d")
    );
    assert_eq!(with(json!({})).as_deref(), Some("name"));
    let bare = entry(json!({ "labels": { "job": "node", "instance": "h:1" } }));
    assert_eq!(
        bare.message.as_deref(),
        Some(r#"{instance="h:1", job="node"}"#)
    );
}

#[test]
fn no_fingerprint_hashes_the_sorted_labels() {
    let labels = json!({ "severity": "critical", "alertname": "thing_dead" });
    let input = entry(json!({ "labels": labels }));
    let digest = hex::encode(Sha256::digest(
        b"alertname=thing_dead\nseverity=critical".as_slice(),
    ));
    assert_eq!(input.id, Some(format!("am-{}", &digest[..16])));
    // Same labels, same id; label order does not matter.
    let again = entry(
        json!({ "labels": { "alertname": "thing_dead", "severity": "critical" },
                              "fingerprint": "" }),
    );
    assert_eq!(again.id, input.id);
    let other = entry(json!({ "labels": { "alertname": "thing_dead" } }));
    assert_ne!(other.id, input.id);
}

#[test]
fn over_long_labels_are_cut_not_refused() {
    let site = "S".repeat(MAX_SITE + 50);
    let host = "h".repeat(MAX_HOST + 1);
    let summary = "é".repeat(MAX_MESSAGE + 10);
    let input = entry(json!({
        "labels": { "site": site, "instance": host, "severity": "x".repeat(500) },
        "annotations": { "summary": summary },
        "fingerprint": "f"
    }));
    assert_eq!(input.site, Some("S".repeat(MAX_SITE)));
    assert_eq!(input.host, Some("h".repeat(MAX_HOST)));
    assert_eq!(input.message, Some("é".repeat(MAX_MESSAGE)));
    assert_eq!(input.severity, Some(DEFAULT_SEVERITY));
    // What the mapping gives always passes the webhook's own checks.
    let body = json!({
        "id": input.id, "site": input.site, "severity": "warning",
        "message": input.message, "host": input.host, "source": input.source
    });
    assert!(AlertInput::from_json(&body).is_ok());
}

#[test]
fn cut_keeps_characters_whole_and_trims() {
    assert_eq!(cut("abc", 5), "abc");
    assert_eq!(cut("ab cd", 3), "ab");
    assert_eq!(cut("ééé", 2), "éé");
}

#[test]
fn grafana_is_told_apart_by_org_id() {
    let body = |extra: Value| {
        let mut b = json!({ "alerts": [{ "labels": { "alertname": "x" }, "fingerprint": "f" }] });
        if let (Some(b), Some(extra)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(extra.clone());
        }
        one(b).source
    };
    assert_eq!(body(json!({"orgId": 1})).as_deref(), Some("grafana"));
    assert_eq!(
        body(json!({"version": "4"})).as_deref(),
        Some("alertmanager")
    );
}

#[test]
fn unusable_entries_are_reported_and_the_others_kept() {
    let mapped = map_body(&json!({
        "alerts": [
            "not an alert",
            { "labels": { "alertname": "ok" }, "fingerprint": "1" },
            { "status": "firing" },
            { "labels": {}, "fingerprint": { "x": 1 } },
            { "labels": { "a": "b" }, "fingerprint": "f".repeat(MAX_ID) }
        ]
    }))
    .expect("a webhook body");
    assert_eq!(mapped.inputs.len(), 1);
    assert_eq!(mapped.inputs[0].id.as_deref(), Some("am-1"));
    let indexes: Vec<usize> = mapped.unusable.iter().map(|u| u.index).collect();
    assert_eq!(indexes, [0, 2, 3, 4]);
    assert!(mapped.unusable.iter().all(|u| u.reason.is_ascii()));
}

#[test]
fn refuses_what_is_not_a_webhook() {
    for (body, expect) in [
        (json!([1]), "must be a JSON object"),
        (json!({"receiver": "x"}), "no \"alerts\" array"),
        (json!({"alerts": {"a": 1}}), "must be an array"),
    ] {
        let err = map_body(&body).expect_err("refused");
        assert!(err.contains(expect), "{err}");
    }
    let empty = map_body(&json!({"alerts": []})).expect("nothing to do");
    assert!(empty.inputs.is_empty() && empty.unusable.is_empty());
}
