//! What the Zabbix media type sends beyond the alert itself: the event's own
//! time (`at`), the link, the description, the labels, an acknowledgement
//! made in Zabbix, and nothing at all for the server's own write-back.
//! The script runs in the real `zabbix_js`; a small HTTP listener records
//! the bodies it posts, exactly as sent.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use common::media::{params, run, zabbix_js_or_skip};
use common::{INGEST, Screen, TestServer, within};
use noc_shared::Status;
use serde_json::{Value, json};

/// An HTTP listener that records every JSON body posted to
/// `/internal/alerts` and answers 200.
struct Recorder {
    base: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Recorder {
    async fn start() -> Recorder {
        let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
        let app = axum::Router::new()
            .route(
                "/internal/alerts",
                post(
                    |State(bodies): State<Arc<Mutex<Vec<Value>>>>, Json(body): Json<Value>| async move {
                        bodies.lock().expect("lock").push(body);
                        Json(json!({}))
                    },
                ),
            )
            .with_state(bodies.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Recorder { base, bodies }
    }

    /// Runs the script with `macros` and `extra` parameters; returns what
    /// it posted (nothing, or one body) and its output.
    async fn send(
        &self,
        zabbix_js: &Path,
        macros: &BTreeMap<&str, String>,
        extra: &[(&str, &str)],
    ) -> (Option<Value>, String) {
        let before = self.bodies.lock().expect("lock").len();
        let mut p = params(&self.base, INGEST, macros);
        for (name, value) in extra {
            p.insert((*name).into(), Value::String((*value).into()));
        }
        let (ok, out) = run(zabbix_js, &p).await;
        assert!(ok, "the script failed: {out}");
        let bodies = self.bodies.lock().expect("lock");
        assert!(bodies.len() <= before + 1, "one post at most: {out}");
        (bodies.get(before).cloned(), out)
    }
}

/// The problem 48213 of trigger 1771 on sw-01.kili, at 22:40:00 on
/// 2026-11-28 in the recipient's time zone, UTC+3.
fn problem() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("{EVENT.ID}", "48213".into()),
        ("{EVENT.NAME}", "Core switch sw-01 unreachable".into()),
        ("{EVENT.NSEVERITY}", "5".into()),
        ("{EVENT.VALUE}", "1".into()),
        ("{EVENT.STATUS}", "PROBLEM".into()),
        ("{EVENT.UPDATE.STATUS}", "0".into()),
        ("{EVENT.DATE}", "2026.11.28".into()),
        ("{EVENT.TIME}", "22:40:00".into()),
        ("{HOST.NAME}", "sw-01.kili".into()),
        ("{TRIGGER.ID}", "1771".into()),
        (
            "{TRIGGER.DESCRIPTION}",
            "Interface Gi0/1 down; 120 customers behind it".into(),
        ),
        (
            "{EVENT.TAGSJSON}",
            r#"[{"tag":"site","value":"Kilimanjaro"},{"tag":"team","value":"core"},{"tag":"team","value":"noc"}]"#.into(),
        ),
        ("{$ZABBIX.URL}", "https://zabbix.dc1.example/zabbix/".into()),
    ])
}

const EAT: (&str, &str) = ("utc_offset", "+03:00");

#[tokio::test]
async fn a_problem_carries_its_own_time_link_description_and_labels() {
    let Some(zabbix_js) = zabbix_js_or_skip() else {
        return;
    };
    let recorder = Recorder::start().await;
    let (body, out) = recorder
        .send(&zabbix_js, &problem(), &[EAT, ("id_prefix", "dc1-")])
        .await;
    let body = body.unwrap_or_else(|| panic!("nothing posted: {out}"));
    assert_eq!(
        body,
        json!({
            "id": "dc1-48213",
            "event": "alert.created",
            "site": "Kilimanjaro",
            "severity": "critical",
            "message": "Core switch sw-01 unreachable",
            "host": "sw-01.kili",
            "source": "zabbix",
            "at": "2026-11-28T19:40:00.000Z",
            "url": "https://zabbix.dc1.example/zabbix/tr_events.php?triggerid=1771&eventid=48213",
            "description": "Interface Gi0/1 down; 120 customers behind it",
            "labels": {
                "zabbix.eventid": "48213",
                "zabbix.triggerid": "1771",
                "site": "Kilimanjaro",
                "team": "core, noc"
            }
        })
    );

    // Without a Zabbix URL there is no link; without an offset, UTC.
    let mut macros = problem();
    macros.insert("{$ZABBIX.URL}", "{$ZABBIX.URL}".into());
    let (body, _) = recorder.send(&zabbix_js, &macros, &[]).await;
    let body = body.expect("posted");
    assert_eq!(body["id"], "zbx-48213");
    assert_eq!(body["at"], "2026-11-28T22:40:00.000Z");
    assert!(body.get("url").is_none(), "{body}");
}

#[tokio::test]
async fn updates_and_recoveries_carry_their_own_time_and_the_acknowledging_user() {
    let Some(zabbix_js) = zabbix_js_or_skip() else {
        return;
    };
    let recorder = Recorder::start().await;

    // Acknowledged with a comment in Zabbix, one minute in.
    let mut ack = problem();
    ack.insert("{EVENT.UPDATE.STATUS}", "1".into());
    ack.insert("{EVENT.UPDATE.DATE}", "2026.11.28".into());
    ack.insert("{EVENT.UPDATE.TIME}", "22:41:00".into());
    ack.insert("{EVENT.UPDATE.ACTION}", "acknowledged, commented".into());
    ack.insert("{EVENT.UPDATE.MESSAGE}", "on it".into());
    ack.insert("{USER.FULLNAME}", "Irene Mushi (irene)".into());
    let (body, _) = recorder.send(&zabbix_js, &ack, &[EAT]).await;
    let body = body.expect("posted");
    assert_eq!(
        (&body["event"], &body["at"], &body["ack"]),
        (
            &json!("alert.created"),
            &json!("2026-11-28T19:41:00.000Z"),
            &json!({"acked": true, "by": "Irene Mushi (irene)", "note": "on it"})
        )
    );

    // Unacknowledged.
    let mut unack = ack.clone();
    unack.insert("{EVENT.UPDATE.ACTION}", "unacknowledged".into());
    unack.insert("{EVENT.UPDATE.MESSAGE}", "".into());
    let (body, _) = recorder.send(&zabbix_js, &unack, &[EAT]).await;
    assert_eq!(
        body.expect("posted")["ack"],
        json!({"acked": false, "by": "Irene Mushi (irene)"})
    );

    // A comment only: no change to the acknowledgement.
    let mut comment = ack.clone();
    comment.insert("{EVENT.UPDATE.ACTION}", "commented".into());
    let (body, _) = recorder.send(&zabbix_js, &comment, &[EAT]).await;
    assert!(body.expect("posted").get("ack").is_none());

    // The recovery: its own time, at the end of its second.
    let mut recovery = problem();
    recovery.insert("{EVENT.VALUE}", "0".into());
    recovery.insert("{EVENT.STATUS}", "RESOLVED".into());
    recovery.insert("{EVENT.RECOVERY.ID}", "48377".into());
    recovery.insert("{EVENT.RECOVERY.DATE}", "2026.11.28".into());
    recovery.insert("{EVENT.RECOVERY.TIME}", "23:01:05".into());
    let (body, _) = recorder.send(&zabbix_js, &recovery, &[EAT]).await;
    let body = body.expect("posted");
    assert_eq!(
        (&body["id"], &body["event"], &body["at"]),
        (
            &json!("zbx-48213"),
            &json!("alert.resolved"),
            &json!("2026-11-28T20:01:05.999Z")
        )
    );

    // An acknowledgement of the resolved problem: a resolve, at the
    // update's time, carrying no acknowledgement.
    let mut late = ack.clone();
    late.insert("{EVENT.STATUS}", "RESOLVED".into());
    late.insert("{EVENT.UPDATE.TIME}", "23:05:00".into());
    let (body, _) = recorder.send(&zabbix_js, &late, &[EAT]).await;
    let body = body.expect("posted");
    assert_eq!(
        (&body["event"], &body["at"], body.get("ack")),
        (
            &json!("alert.resolved"),
            &json!("2026-11-28T20:05:00.999Z"),
            None
        )
    );
}

#[tokio::test]
async fn the_servers_own_write_back_is_not_sent_back() {
    let Some(zabbix_js) = zabbix_js_or_skip() else {
        return;
    };
    let recorder = Recorder::start().await;
    let mut echo = problem();
    echo.insert("{EVENT.UPDATE.STATUS}", "1".into());
    echo.insert("{EVENT.UPDATE.ACTION}", "acknowledged, commented".into());
    echo.insert(
        "{EVENT.UPDATE.MESSAGE}",
        "on it — irene@sprinttz.example via NOC".into(),
    );
    echo.insert("{USER.FULLNAME}", "NOC write-back (noc)".into());
    let (body, out) = recorder.send(&zabbix_js, &echo, &[]).await;
    assert_eq!(body, None, "{out}");
    assert!(out.contains("OK: not sent"), "{out}");

    // The same words typed by a person in Zabbix, not at the end: sent.
    echo.insert(
        "{EVENT.UPDATE.MESSAGE}",
        "seen via NOC wall, calling the field team".into(),
    );
    let (body, out) = recorder.send(&zabbix_js, &echo, &[]).await;
    assert!(body.is_some(), "{out}");

    // An unacknowledgement by the write-back's own Zabbix user carries no
    // message: the user tells it apart. Another user's is sent.
    let mut unack = problem();
    unack.insert("{EVENT.UPDATE.STATUS}", "1".into());
    unack.insert("{EVENT.UPDATE.ACTION}", "unacknowledged".into());
    unack.insert("{USER.FULLNAME}", "NOC write-back (noc)".into());
    let (body, out) = recorder
        .send(&zabbix_js, &unack, &[("writeback_user", "noc")])
        .await;
    assert_eq!(body, None, "{out}");
    unack.insert("{USER.FULLNAME}", "Irene Mushi (irene)".into());
    let (body, out) = recorder
        .send(&zabbix_js, &unack, &[("writeback_user", "noc")])
        .await;
    assert!(body.is_some(), "{out}");
}

/// A retried problem that arrives after its own recovery leaves the alert
/// resolved: the media type's `at` puts it before the recovery.
#[tokio::test]
async fn a_problem_retried_after_its_recovery_does_not_reopen_the_alert() {
    let Some(zabbix_js) = zabbix_js_or_skip() else {
        return;
    };
    let server = TestServer::start(&[]).await;
    let mut screen = Screen::connect(&server.ws_url("sites=Kilimanjaro")).await;
    screen.snapshot().await;
    let send = |macros: BTreeMap<&'static str, String>| {
        let p = params(&server.url(""), INGEST, &macros);
        let zabbix_js = zabbix_js.clone();
        async move {
            let (ok, out) = run(&zabbix_js, &p).await;
            assert!(ok, "{out}");
        }
    };
    let mut recovery = problem();
    recovery.insert("{EVENT.VALUE}", "0".into());
    recovery.insert("{EVENT.RECOVERY.ID}", "48377".into());
    recovery.insert("{EVENT.RECOVERY.DATE}", "2026.11.28".into());
    // The same second as the problem: still after it.
    recovery.insert("{EVENT.RECOVERY.TIME}", "22:40:00".into());

    within("the problem", send(problem())).await;
    within("the recovery", send(recovery)).await;
    assert_eq!(server.stored("zbx-48213").await.status, Status::Resolved);
    screen.next_alert().await;
    screen.next_alert().await;

    // Zabbix retries the problem's message after the recovery went through.
    within("the retried problem", send(problem())).await;
    assert_eq!(server.stored("zbx-48213").await.status, Status::Resolved);
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;
    server.stop().await;
}
