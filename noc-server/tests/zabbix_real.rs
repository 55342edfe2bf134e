//! A real Zabbix 6.0 end to end: a value sent with `zabbix_sender` raises
//! a problem, Zabbix's alerter posts it through the project's media type to
//! the server; a person's ack with a note, note and unack on the server's
//! API are written back by its worker to that event, signed with the
//! person's email, and their echoes (Zabbix's update messages) change
//! nothing on the wall, which shows one ack; an ack made in Zabbix
//! (`event.acknowledge`) shows on the wall by that Zabbix user; the
//! recovery resolves the alert. The Zabbix client's refusals are checked against it too.
//!
//! Needs Zabbix's packages and PostgreSQL (`scripts/ci-setup.sh`,
//! `NOC_TEST_DATABASE_URL`); skipped with the reason otherwise, except
//! under `NOC_REQUIRE_ZABBIX=1` (CI), where it must run.

mod common;

use std::time::{Duration, Instant};

use common::zabbix_stack::{self, ZabbixStack};
use common::{Screen, TestServer, skip_or_fail};
use noc_server::writeback::zabbix::Zabbix;
use noc_server::writeback::{Notice, SendError, http_client};
use noc_shared::{Alert, EventKind, Severity, Status, WritebackState};
use serde_json::{Value, json};

/// Zabbix's alerter and escalator run on their own clocks: a message
/// takes 2–6 s to go out.
const PATIENCE: Duration = Duration::from_secs(40);
const IRENE: &str = "irene@sprinttz.example";
const IRENE_TOKEN: &str = "irene-token";
/// The Zabbix source's token, which the media type posts with.
const SOURCE_TOKEN: &str = "zabbix-dc1-token";

/// The sources file (Zabbix `zabbix-dc1`, written back through the API
/// on `api_port` with the token in `token_file`) and the users file, in
/// `dir`; the flags that name them.
fn files(dir: &tempfile::TempDir, api_port: u16, token_file: &std::path::Path) -> Vec<String> {
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        format!(
            "[[source]]\nname = \"zabbix-dc1\"\nkind = \"zabbix\"\ntoken = \"{SOURCE_TOKEN}\"\n\
             api_url = \"http://127.0.0.1:{api_port}/api_jsonrpc.php\"\napi_token_file = \"{}\"\n",
            token_file.display()
        ),
    )
    .expect("sources file");
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        format!("[[user]]\nemail = \"{IRENE}\"\ntoken = \"{IRENE_TOKEN}\"\n"),
    )
    .expect("users file");
    vec![
        "--sources-file".into(),
        sources.display().to_string(),
        "--users-file".into(),
        users.display().to_string(),
    ]
}

/// A person's POST of `body` to `path` (with `{}` for the alert id); the
/// answer.
async fn post(server: &TestServer, path: &str, id: &str, body: Value) -> Value {
    let response = server
        .http
        .post(server.url(&path.replace("{}", id)))
        .bearer_auth(IRENE_TOKEN)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.expect("JSON")
}

/// The action's own event and then its write-back's outcome, `done`.
async fn action_written_back(screen: &mut Screen, kind: EventKind) {
    assert_eq!(screen.next_alert().await.0, kind);
    let (next, shown) = screen.next_alert().await;
    assert_eq!(
        (next, shown.writeback.map(|w| w.state)),
        (EventKind::Updated, Some(WritebackState::Done)),
        "the write-back's outcome on the wall"
    );
}

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
async fn zabbix_problem_ack_echo_zabbix_ack_and_recovery() {
    if !can_run() {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let api_port = zabbix_stack::free_port();
    let token_file = dir.path().join("zabbix-dc1.token");
    let flags = files(&dir, api_port, &token_file);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = TestServer::start(&flags).await;
    let stack = ZabbixStack::start(&server.url(""), SOURCE_TOKEN, api_port, token_file).await;
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
            "zabbix-dc1",
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

    // An ack on the wall: the server's worker writes it to the event,
    // signed with the person's email.
    let acked = post(
        &server,
        "/api/v1/alerts/{}/ack",
        &alert.id,
        json!({"note": "fibre cut at km 12"}),
    )
    .await;
    assert_eq!(acked["acked_by"], IRENE);
    action_written_back(&mut screen, EventKind::Acknowledged).await;
    let (_, messages) = acknowledges(&stack, &eventid).await;
    assert_eq!(
        messages,
        vec![format!("fibre cut at km 12 — {IRENE} via NOC")]
    );
    let (flag, _) = acknowledges(&stack, &eventid).await;
    assert_eq!(flag, "1", "acknowledged in Zabbix");
    let by = stack
        .admin(
            "event.get",
            json!({"eventids": [eventid], "output": ["eventid"], "select_acknowledges": ["userid", "action"]}),
        )
        .await;
    let writer = stack
        .admin(
            "user.get",
            json!({"output": ["userid"], "filter": {"username": zabbix_stack::WRITEBACK_USER}}),
        )
        .await;
    assert_eq!(
        by[0]["acknowledges"][0]["userid"], writer[0]["userid"],
        "{by}"
    );
    println!("ack in Zabbix at {:.1}s", started.elapsed().as_secs_f64());

    // Zabbix's update message for it comes back through the media type,
    // which knows the write-back's user and posts nothing: one ack shows.
    wait_for(&stack, "the ack's update message to be sent", || async {
        (sent(&stack, &eventid).await >= 2).then_some(())
    })
    .await;
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;
    assert_eq!(
        server.stored(&alert.id).await.acked_by.as_deref(),
        Some(IRENE)
    );

    // A note, and the unack (which carries no message: the write-back
    // user tells its echo apart); neither echo changes the wall.
    post(
        &server,
        "/api/v1/alerts/{}/notes",
        &alert.id,
        json!({"text": "splicing team on site"}),
    )
    .await;
    action_written_back(&mut screen, EventKind::Noted).await;
    let (_, messages) = acknowledges(&stack, &eventid).await;
    assert!(
        messages.contains(&format!("splicing team on site — {IRENE} via NOC")),
        "{messages:?}"
    );
    post(&server, "/api/v1/alerts/{}/unack", &alert.id, json!({})).await;
    action_written_back(&mut screen, EventKind::Unacknowledged).await;
    assert_eq!(acknowledges(&stack, &eventid).await.0, "0");
    wait_for(&stack, "the note's and unack's update messages", || async {
        (sent(&stack, &eventid).await >= 4).then_some(())
    })
    .await;
    let marker = server.post_marker("Kilimanjaro").await;
    screen.expect_marker(&marker).await;

    // An ack made in Zabbix itself shows on the wall, by that Zabbix user.
    stack
        .admin(
            "event.acknowledge",
            json!({"eventids": [eventid], "action": 6, "message": "on the phone with the carrier"}),
        )
        .await;
    let by_admin = wait_for(&stack, "Zabbix's ack on the wall", || async {
        let alert = server.stored(&alert.id).await;
        alert.acked_by.is_some().then_some(alert)
    })
    .await;
    let by = by_admin.acked_by.clone().unwrap_or_default();
    assert!(by.ends_with("(Admin)"), "{by}");
    assert_eq!(
        by_admin.ack_note.as_deref(),
        Some("on the phone with the carrier")
    );
    let (kind, shown) = screen.next_alert().await;
    assert_eq!((kind, shown), (EventKind::Acknowledged, by_admin));
    println!(
        "Zabbix's ack on the wall at {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let zabbix = Zabbix::new(http_client(), &stack.api_url, stack.token_file.clone());
    let note = Notice::Note {
        by: IRENE.into(),
        text: "fibre cut at km 12".into(),
    };
    // An alert the media type did not bring has no event id: failed for good.
    let missing = zabbix.send(None, &note).await;
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
