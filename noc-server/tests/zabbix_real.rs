//! A real Zabbix 6.0 end to end: a value sent with `zabbix_sender` raises
//! a problem, Zabbix's alerter posts it through the project's media type to
//! the server; an acknowledgement written back through the Zabbix client
//! appears on that event naming the person, and its echo (Zabbix's update
//! message) changes nothing on the wall; the recovery resolves the alert.
//!
//! Needs Zabbix's packages and PostgreSQL (`scripts/ci-setup.sh`,
//! `NOC_TEST_DATABASE_URL`); skipped with the reason otherwise, except
//! under `NOC_REQUIRE_ZABBIX=1` (CI), where it must run.

mod common;

use std::time::{Duration, Instant};

use common::zabbix_stack::{self, ZabbixStack};
use common::{INGEST, Screen, TestServer, skip_or_fail};
use noc_server::writeback::zabbix::Zabbix;
use noc_server::writeback::{Notice, SendError, http_client};
use noc_shared::{Alert, EventKind, Severity, Status};
use serde_json::json;

/// Zabbix's alerter and escalator run on their own clocks: a message
/// takes 2–6 s to go out.
const PATIENCE: Duration = Duration::from_secs(40);
const IRENE: &str = "irene@sprinttz.example";

/// Whether this machine can run the stack; fails the test under
/// `NOC_REQUIRE_ZABBIX=1` when it cannot.
fn can_run() -> bool {
    let Some(missing) = zabbix_stack::missing() else {
        return true;
    };
    skip_or_fail("NOC_REQUIRE_ZABBIX", &format!("a real Zabbix ({missing})"));
    false
}

/// Polls `probe` until it gives a value, for at most [`PATIENCE`]; fails
/// with Zabbix's log otherwise.
async fn wait_for<T, F, Fut>(stack: &ZabbixStack, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if start.elapsed() > PATIENCE {
            panic!(
                "timed out waiting for {what}; Zabbix's log:\n{}",
                stack.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn alert_on_host(server: &TestServer) -> Option<Alert> {
    let alerts: Vec<Alert> =
        serde_json::from_value(server.get_json("/api/v1/alerts?status=all").await).ok()?;
    alerts
        .into_iter()
        .find(|a| a.host.as_deref() == Some(zabbix_stack::HOST))
}

/// The event's `acknowledged` flag and its acknowledgements' messages.
async fn acknowledges(stack: &ZabbixStack, eventid: &str) -> (String, Vec<String>) {
    let events = stack
        .admin(
            "event.get",
            json!({"eventids": [eventid], "output": ["acknowledged"], "select_acknowledges": ["message", "action", "userid"]}),
        )
        .await;
    let event = &events[0];
    let messages = event["acknowledges"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["message"].as_str())
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    (
        event["acknowledged"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        messages,
    )
}

/// How many of the event's messages Zabbix has sent (status 1).
async fn sent(stack: &ZabbixStack, eventid: &str) -> usize {
    let alerts = stack
        .admin(
            "alert.get",
            json!({"eventids": [eventid], "output": ["status", "error"]}),
        )
        .await;
    alerts
        .as_array()
        .map_or(0, |a| a.iter().filter(|m| m["status"] == "1").count())
}

#[tokio::test]
async fn zabbix_problem_ack_echo_and_recovery() {
    if !can_run() {
        return;
    }
    let started = Instant::now();
    let server = TestServer::start(&[]).await;
    let stack = ZabbixStack::start(&server.url(""), INGEST).await;
    println!("Zabbix stack up in {:.1}s", started.elapsed().as_secs_f64());
    let mut screen = Screen::connect(&server.ws_url("sites=Kilimanjaro")).await;
    screen.snapshot().await;

    // The problem, through Zabbix's own alerter and the media type.
    stack.send(1).await;
    let alert = wait_for(&stack, "the problem on the server", || {
        alert_on_host(&server)
    })
    .await;
    let eventid = alert.id.strip_prefix("zbx-").expect("a zbx- id").to_owned();
    assert_eq!(
        (
            alert.site.as_str(),
            alert.severity,
            alert.message.as_str(),
            alert.source.as_str(),
            alert.status
        ),
        (
            "Kilimanjaro",
            Severity::High,
            "Uplink down on sw-01.kili",
            "zabbix",
            Status::Active
        )
    );
    assert_eq!(
        (
            alert.labels.get("zabbix.eventid").map(String::as_str),
            alert.labels.get("zabbix.triggerid"),
            alert.labels.get("team").map(String::as_str),
            alert.description.as_deref(),
        ),
        (
            Some(eventid.as_str()),
            Some(&stack.triggerid),
            Some("core"),
            Some("Gi0/1 carries the Arusha link"),
        )
    );
    let url = alert.url.clone().unwrap_or_default();
    assert!(
        url.ends_with(&format!(
            "/tr_events.php?triggerid={}&eventid={eventid}",
            stack.triggerid
        )),
        "{url}"
    );
    assert_eq!(screen.next_alert().await.0, EventKind::Created);
    println!(
        "problem on the wall at {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // An ack with a note, written back as the server's worker does.
    let zabbix = Zabbix::new(http_client(), &stack.api_url, stack.token_file.clone());
    let ack = Notice::Ack {
        by: IRENE.into(),
        note: Some("fibre cut at km 12".into()),
        expires_at: None,
    };
    zabbix
        .send(Some(&eventid), &ack)
        .await
        .expect("event.acknowledge");
    let (acked, messages) = acknowledges(&stack, &eventid).await;
    assert_eq!(acked, "1");
    assert_eq!(
        messages,
        vec![format!("fibre cut at km 12 — {IRENE} via NOC")]
    );

    // Zabbix sends its update message for that ack; the media type knows
    // it for the server's own and posts nothing.
    wait_for(&stack, "the update message to be sent", || async {
        (sent(&stack, &eventid).await >= 2).then_some(())
    })
    .await;
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;
    assert_eq!(
        server.stored(&alert.id).await.updated_at,
        alert.updated_at,
        "the echo changed the alert"
    );

    // Unack: no message, so the write-back user tells the echo apart.
    zabbix
        .send(Some(&eventid), &Notice::Unack { by: IRENE.into() })
        .await
        .expect("unack");
    assert_eq!(acknowledges(&stack, &eventid).await.0, "0");
    wait_for(&stack, "the unack's update message", || async {
        (sent(&stack, &eventid).await >= 3).then_some(())
    })
    .await;
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;

    // An alert the media type did not bring has no event id: failed for good.
    let missing = zabbix.send(None, &ack).await;
    assert!(matches!(missing, Err(SendError::Fail(_))), "{missing:?}");

    // The recovery.
    stack.send(0).await;
    let resolved = wait_for(&stack, "the recovery on the server", || async {
        alert_on_host(&server)
            .await
            .filter(|a| a.status == Status::Resolved)
    })
    .await;
    assert_eq!(resolved.id, alert.id);
    assert_eq!(screen.next_alert().await.0, EventKind::Resolved);

    // A token Zabbix does not know: Zabbix's words, to retry (an operator
    // may fix the file), never a success.
    let bad = stack.home.path().join("bad.token");
    std::fs::write(&bad, "0000\n").expect("write");
    let zabbix = Zabbix::new(http_client(), &stack.api_url, bad);
    let result = zabbix
        .send(Some(&eventid), &Notice::Unack { by: IRENE.into() })
        .await;
    let Err(SendError::Retry(words)) = result else {
        panic!("{result:?}");
    };
    assert!(words.contains("event.acknowledge"), "{words}");
    drop(stack);
    server.stop().await;
    println!("whole run {:.1}s", started.elapsed().as_secs_f64());
}
