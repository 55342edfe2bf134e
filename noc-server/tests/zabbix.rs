//! The Zabbix media type (`scripts/zabbix/`): its script is the one the
//! YAML export embeds, and run in Zabbix's own engine (`zabbix_js`) with
//! the macro values Zabbix would give, it drives a real server through a
//! problem, an update and a recovery, and shows an ack made in Zabbix.

mod common;

use std::collections::BTreeMap;

use common::media::{literal_block, params, read, run, yaml_parameters, zabbix_js_or_skip};
use common::{INGEST, Screen, TestServer};
use noc_shared::{EventKind, Severity, Status};
use serde_json::Value;

#[test]
fn the_yaml_embeds_exactly_the_script_file() {
    let yaml = read("media_noc.yaml");
    let script = read("noc-webhook.js");
    let embedded = literal_block(&yaml, "script: |");
    assert!(
        embedded == script,
        "scripts/zabbix/media_noc.yaml's script differs from noc-webhook.js: copy the file \
         into the `script: |` block, indented by 8 spaces"
    );
}

#[test]
fn the_yaml_is_a_zabbix_6_0_webhook_media_type() {
    let yaml = read("media_noc.yaml");
    let lines: Vec<&str> = yaml.lines().collect();
    assert_eq!(lines[0], "zabbix_export:");
    assert!(lines.contains(&"  version: '6.0'"));
    assert!(lines.contains(&"  media_types:"));
    assert!(lines.contains(&"      type: WEBHOOK"));
    for mode in ["PROBLEM", "RECOVERY", "UPDATE"] {
        assert!(
            lines.contains(&format!("          operation_mode: {mode}").as_str()),
            "a message template for {mode}"
        );
    }
    let params = yaml_parameters(&yaml);
    for (name, value) in [
        ("event_id", "{EVENT.ID}"),
        ("event_name", "{EVENT.NAME}"),
        ("event_nseverity", "{EVENT.NSEVERITY}"),
        ("event_severity", "{EVENT.SEVERITY}"),
        ("event_value", "{EVENT.VALUE}"),
        ("event_update_status", "{EVENT.UPDATE.STATUS}"),
        ("event_recovery_id", "{EVENT.RECOVERY.ID}"),
        ("host_name", "{HOST.NAME}"),
        ("site", "{EVENT.TAGS.site}"),
        ("event_tags_json", "{EVENT.TAGSJSON}"),
        ("default_site", "unknown"),
        ("event_date", "{EVENT.DATE}"),
        ("event_time", "{EVENT.TIME}"),
        ("event_update_date", "{EVENT.UPDATE.DATE}"),
        ("event_update_time", "{EVENT.UPDATE.TIME}"),
        ("event_recovery_date", "{EVENT.RECOVERY.DATE}"),
        ("event_recovery_time", "{EVENT.RECOVERY.TIME}"),
        ("event_status", "{EVENT.STATUS}"),
        ("event_update_action", "{EVENT.UPDATE.ACTION}"),
        ("event_update_message", "{EVENT.UPDATE.MESSAGE}"),
        ("event_update_user", "{USER.FULLNAME}"),
        ("trigger_id", "{TRIGGER.ID}"),
        ("trigger_description", "{TRIGGER.DESCRIPTION}"),
        ("zabbix_url", "{$ZABBIX.URL}"),
        ("id_prefix", "zbx-"),
        ("utc_offset", "+00:00"),
    ] {
        assert_eq!(params.get(name).map(String::as_str), Some(value), "{name}");
    }
    assert!(params.contains_key("noc_url") && params.contains_key("noc_token"));
}

/// Macro values as Zabbix resolves them for the problem event 48213 of
/// switch sw-01.kili, tagged `site: Kilimanjaro`. A macro Zabbix cannot
/// resolve stays as its own text, as `{EVENT.RECOVERY.ID}` does here.
fn problem_macros() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("{EVENT.ID}", "48213".into()),
        ("{EVENT.NAME}", "Core switch sw-01 unreachable".into()),
        ("{EVENT.NSEVERITY}", "5".into()),
        ("{EVENT.SEVERITY}", "Disaster".into()),
        ("{EVENT.VALUE}", "1".into()),
        ("{EVENT.UPDATE.STATUS}", "0".into()),
        ("{EVENT.RECOVERY.ID}", "{EVENT.RECOVERY.ID}".into()),
        ("{HOST.NAME}", "sw-01.kili".into()),
        ("{EVENT.TAGS.site}", "Kilimanjaro".into()),
        (
            "{EVENT.TAGSJSON}",
            r#"[{"tag":"class","value":"network"},{"tag":"site","value":"Kilimanjaro"}]"#.into(),
        ),
    ])
}

#[tokio::test]
async fn problem_update_recovery_in_zabbix_js() {
    let Some(zabbix_js) = zabbix_js_or_skip() else {
        return;
    };
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("sites=Kilimanjaro")).await;
    screen.snapshot().await;

    // The problem.
    let mut macros = problem_macros();
    let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
    assert!(ok, "problem: {out}");
    assert!(out.contains("OK: alert.created zbx-48213"), "{out}");
    let problem = server.stored("zbx-48213").await;
    assert_eq!(
        (
            problem.site.as_str(),
            problem.severity,
            problem.message.as_str(),
            problem.host.as_deref(),
            problem.source.as_str(),
            problem.status,
        ),
        (
            "Kilimanjaro",
            Severity::Critical,
            "Core switch sw-01 unreachable",
            Some("sw-01.kili"),
            "zabbix",
            Status::Active,
        )
    );
    assert_eq!(screen.next_alert().await, (EventKind::Created, problem));

    // An operator lowers the severity in Zabbix: an update operation.
    macros.insert("{EVENT.UPDATE.STATUS}", "1".into());
    macros.insert("{EVENT.NSEVERITY}", "4".into());
    macros.insert("{EVENT.SEVERITY}", "High".into());
    let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
    assert!(ok, "update: {out}");
    let updated = server.stored("zbx-48213").await;
    assert_eq!(
        (updated.severity, updated.status),
        (Severity::High, Status::Active)
    );
    assert_eq!(screen.next_alert().await, (EventKind::Updated, updated));

    // The recovery: Zabbix gives it the problem's {EVENT.ID} and value 0.
    macros.insert("{EVENT.UPDATE.STATUS}", "0".into());
    macros.insert("{EVENT.VALUE}", "0".into());
    macros.insert("{EVENT.RECOVERY.ID}", "48377".into());
    let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
    assert!(ok, "recovery: {out}");
    assert!(out.contains("OK: alert.resolved zbx-48213"), "{out}");
    let resolved = server.stored("zbx-48213").await;
    assert_eq!(resolved.status, Status::Resolved);
    assert_eq!(resolved.message, "Core switch sw-01 unreachable");
    let recovery_event = server
        .http
        .get(server.url("/api/v1/alerts/zbx-48377"))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        recovery_event.status(),
        404,
        "no alert for the recovery event"
    );
    assert_eq!(screen.next_alert().await.0, EventKind::Resolved);

    // A comment on the resolved problem must not re-open its alert.
    macros.insert("{EVENT.UPDATE.STATUS}", "1".into());
    macros.insert("{EVENT.VALUE}", "1".into());
    let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
    assert!(ok, "update after recovery: {out}");
    assert_eq!(server.stored("zbx-48213").await.status, Status::Resolved);
    // Nor emit anything.
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;
    server.stop().await;
}

#[tokio::test]
async fn site_severity_and_length_fallbacks_in_zabbix_js() {
    let Some(zabbix_js) = zabbix_js_or_skip() else {
        return;
    };
    let server = TestServer::start(&[]).await;

    // No `site` tag: {EVENT.TAGS.site} stays unresolved; a tag spelt
    // "Site" is found in {EVENT.TAGSJSON}. Severity names are the fallback
    // when the number is missing.
    let mut macros = problem_macros();
    macros.insert("{EVENT.ID}", "501".into());
    macros.insert("{EVENT.TAGS.site}", "{EVENT.TAGS.site}".into());
    macros.insert(
        "{EVENT.TAGSJSON}",
        r#"[{"tag":"Site","value":"Dar es Salaam"}]"#.into(),
    );
    macros.insert("{EVENT.NSEVERITY}", "{EVENT.NSEVERITY}".into());
    macros.insert("{EVENT.SEVERITY}", "Average".into());
    let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
    assert!(ok, "{out}");
    let alert = server.stored("zbx-501").await;
    assert_eq!(
        (alert.site.as_str(), alert.severity),
        ("Dar es Salaam", Severity::Average)
    );

    // No site tag at all: the default site parameter. "Not classified" is
    // info; an event name longer than the server takes is cut, not lost.
    macros.insert("{EVENT.ID}", "502".into());
    macros.insert("{EVENT.TAGSJSON}", "[]".into());
    macros.insert("{EVENT.NSEVERITY}", "0".into());
    macros.insert("{EVENT.NAME}", "n".repeat(5000));
    let mut p = params(&server.url(""), INGEST, &macros);
    p.insert("default_site".into(), Value::String("Serengeti".into()));
    let (ok, out) = run(&zabbix_js, &p).await;
    assert!(ok, "{out}");
    let alert = server.stored("zbx-502").await;
    assert_eq!(
        (alert.site.as_str(), alert.severity, alert.message.len()),
        ("Serengeti", Severity::Info, 4096)
    );

    // Every Zabbix severity number.
    for (n, severity) in [
        ("1", Severity::Info),
        ("2", Severity::Warning),
        ("3", Severity::Average),
        ("4", Severity::High),
        ("5", Severity::Critical),
    ] {
        macros.insert("{EVENT.ID}", format!("60{n}"));
        macros.insert("{EVENT.NSEVERITY}", n.into());
        let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
        assert!(ok, "{out}");
        assert_eq!(
            server.stored(&format!("zbx-60{n}")).await.severity,
            severity
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn recovery_of_a_problem_the_server_never_saw_is_stored_resolved() {
    let Some(zabbix_js) = zabbix_js_or_skip() else {
        return;
    };
    let server = TestServer::start(&[]).await;
    let mut macros = problem_macros();
    macros.insert("{EVENT.ID}", "700".into());
    macros.insert("{EVENT.VALUE}", "0".into());
    macros.insert("{EVENT.RECOVERY.ID}", "701".into());
    let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
    assert!(ok, "{out}");
    let alert = server.stored("zbx-700").await;
    assert_eq!(
        (alert.status, alert.site.as_str(), alert.source.as_str()),
        (Status::Resolved, "Kilimanjaro", "zabbix")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_refusal_fails_the_script_with_the_servers_words() {
    let Some(zabbix_js) = zabbix_js_or_skip() else {
        return;
    };
    let server = TestServer::start(&[]).await;
    let macros = problem_macros();

    let (ok, out) = run(
        &zabbix_js,
        &params(&server.url(""), "not-the-token", &macros),
    )
    .await;
    assert!(!ok, "a wrong token must fail the script: {out}");
    assert!(
        out.contains("NOC server answered HTTP 401: missing or wrong token"),
        "{out}"
    );
    let all = server.get_json("/api/v1/alerts?status=all").await;
    assert_eq!(all, serde_json::json!([]));

    // The media type as imported, before the URL is set.
    let mut p = params(&server.url(""), INGEST, &macros);
    p.insert(
        "noc_url".into(),
        Value::String("<PLACE NOC SERVER URL>".into()),
    );
    let (ok, out) = run(&zabbix_js, &p).await;
    assert!(!ok && out.contains("set the noc_url parameter"), "{out}");

    // A server that is down: Zabbix must see a failure, to try again.
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let mut p = params(&server.url(""), INGEST, &macros);
    p.insert("noc_url".into(), Value::String(format!("http://{down}")));
    let (ok, out) = run(&zabbix_js, &p).await;
    assert!(!ok, "an unreachable server must fail the script: {out}");
    server.stop().await;
}

#[tokio::test]
async fn an_ack_made_in_zabbix_shows_on_the_wall_by_that_user() {
    let Some(zabbix_js) = zabbix_js_or_skip() else {
        return;
    };
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("sites=Kilimanjaro")).await;
    screen.snapshot().await;
    let mut macros = problem_macros();
    let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
    assert!(ok, "problem: {out}");
    assert_eq!(screen.next_alert().await.0, EventKind::Created);

    // Admin acknowledges the problem in Zabbix, with a message.
    macros.insert("{EVENT.UPDATE.STATUS}", "1".into());
    macros.insert("{EVENT.UPDATE.ACTION}", "acknowledged, commented".into());
    macros.insert("{EVENT.UPDATE.MESSAGE}", "on it".into());
    macros.insert("{USER.FULLNAME}", "Admin (Zabbix Administrator)".into());
    let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
    assert!(ok, "ack: {out}");
    let (kind, acked) = screen.next_alert().await;
    assert_eq!(kind, EventKind::Acknowledged);
    assert_eq!(
        (acked.acked_by.as_deref(), acked.ack_note.as_deref()),
        (Some("Admin (Zabbix Administrator)"), Some("on it"))
    );
    assert!(acked.acked_at.is_some());
    assert_eq!(server.stored("zbx-48213").await, acked);

    // And takes it back.
    macros.insert("{EVENT.UPDATE.ACTION}", "unacknowledged".into());
    macros.insert("{EVENT.UPDATE.MESSAGE}", "".into());
    let (ok, out) = run(&zabbix_js, &params(&server.url(""), INGEST, &macros)).await;
    assert!(ok, "unack: {out}");
    let (kind, unacked) = screen.next_alert().await;
    assert_eq!(kind, EventKind::Unacknowledged);
    assert_eq!((unacked.acked_by, unacked.acked_at), (None, None));

    // History names the source, with the Zabbix user in its changes.
    let history = server.get_json("/api/v1/alerts/zbx-48213/history").await;
    let ack = &history[1];
    assert_eq!(
        (&ack["event"], &ack["by"], &ack["note"]),
        (
            &Value::from("alert.acknowledged"),
            &Value::from("webhook"),
            &Value::from("on it")
        )
    );
    assert_eq!(
        ack["changes"]["acked_by"],
        serde_json::json!([null, "Admin (Zabbix Administrator)"])
    );

    // A malformed ack is refused, saying what to fix, and stores nothing.
    let mut body = common::alert("zbx-1", "Kilimanjaro", "high");
    body["ack"] = serde_json::json!({"acked": "yes", "by": "Admin"});
    let refused = server.post(&body).await;
    assert_eq!(refused.status(), 422);
    let said: Value = refused.json().await.expect("json");
    assert!(
        said["error"]
            .as_str()
            .unwrap_or_default()
            .contains("ack.acked must be true or false"),
        "{said}"
    );
    let missing = server
        .http
        .get(server.url("/api/v1/alerts/zbx-1"))
        .send()
        .await;
    assert_eq!(missing.expect("GET").status(), 404);
    server.stop().await;
}
