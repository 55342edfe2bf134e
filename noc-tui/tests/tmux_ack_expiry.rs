//! Acks with an expiry, and an action the server refuses, in a real
//! terminal (tmux) against the real server: an ack for 2 s shows
//! `[ACK] irene` and lapses by itself; an ack sent for an alert that was
//! resolved while its prompt was open is refused, and the screen says why
//! in words; a viewer token given as the user token views, and its
//! actions are refused in words. Skipped, and says so, without tmux.

mod common;

use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::{Server, alert, skip_or_fail};

#[tokio::test]
async fn an_ack_for_two_seconds_lapses_and_a_refused_one_is_said() {
    if !Tmux::installed() {
        skip_or_fail("NOC_REQUIRE_TMUX", "tmux");
        return;
    }
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("tempdir"));
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        "[[user]]\nemail = \"irene@noc.example\"\ntoken = \"t\"\n",
    )
    .expect("users file");
    let users = users.display().to_string();
    let server = Server::start_on(dir, "127.0.0.1:0", &["--users-file", &users]).await;
    server
        .post(&alert("crit-1", "Kilimanjaro", "critical"))
        .await;
    server.post(&alert("warn-1", "Serengeti", "warning")).await;

    let tmux = Tmux::new("expiry");
    let script = format!(
        "env -u NO_COLOR -u NOC_URL -u NOC_SITES -u NOC_TOKEN -u NOC_USER_TOKEN TERM=xterm-256color \
         {bin} --url {url} --name expiry --user-token t; echo EXIT=$?; sleep 60",
        bin = env!("CARGO_BIN_EXE_noc-tui"),
        url = server.base(),
    );
    tmux.start(110, 24, &script);
    tmux.wait_for("the alerts", |s| {
        s.contains("CONNECTED") && s.contains("warn-1 at")
    })
    .await;
    let row = |s: &str, id: &str| s.lines().find(|l| l.contains(id)).map(str::to_owned);

    // a, no note, 2s: acked, then not, by itself.
    tmux.keys(&["a"]);
    tmux.wait_for("the note prompt", |s| s.contains("Ack note"))
        .await;
    tmux.keys(&["Enter"]);
    tmux.wait_for("the expiry prompt", |s| s.contains("Ack expires in"))
        .await;
    tmux.type_text("2s");
    tmux.keys(&["Enter"]);
    let sent = Instant::now();
    tmux.wait_for("[ACK] irene", |s| {
        row(s, "crit-1 at").is_some_and(|l| l.contains("[ACK] irene"))
    })
    .await;
    tmux.wait_for("the ack to lapse", |s| {
        row(s, "crit-1 at").is_some_and(|l| !l.contains("[ACK]"))
    })
    .await;
    let lapsed = sent.elapsed();
    assert!(
        lapsed >= Duration::from_millis(1500) && lapsed < Duration::from_secs(4),
        "lapsed after {lapsed:?}"
    );

    // The alert resolves while its ack prompt is open: the server refuses
    // the ack (409) and the screen says so.
    tmux.keys(&["Down"]);
    tmux.wait_for("warn-1 selected", |s| {
        row(s, "warn-1 at").is_some_and(|l| l.starts_with("> "))
    })
    .await;
    tmux.keys(&["a"]);
    tmux.wait_for("the note prompt", |s| s.contains("Ack note"))
        .await;
    server
        .post(&serde_json::json!({"id": "warn-1", "event": "alert.resolved"}))
        .await;
    tmux.wait_for("warn-1 resolved", |s| !s.contains("warn-1 at"))
        .await;
    tmux.keys(&["Enter"]);
    tmux.keys(&["Enter"]);
    let said = tmux
        .wait_for("the refusal in words", |s| {
            s.contains("ack of warn-1 failed: not possible in the alert's state (409)")
        })
        .await;
    assert!(!said.contains("EXIT="), "{said}");
    server.stop().await;
}

#[tokio::test]
async fn a_viewer_token_given_as_the_user_token_is_refused_in_words() {
    if !Tmux::installed() {
        skip_or_fail("NOC_REQUIRE_TMUX", "tmux");
        return;
    }
    let server = Server::start(&["--viewer-token", "look-only"]).await;
    server
        .post(&alert("crit-1", "Kilimanjaro", "critical"))
        .await;
    let tmux = Tmux::new("viewer");
    let script = format!(
        "env -u NO_COLOR -u NOC_URL -u NOC_SITES -u NOC_TOKEN -u NOC_USER_TOKEN TERM=xterm-256color \
         {bin} --url {url} --name viewer --user-token look-only; echo EXIT=$?; sleep 60",
        bin = env!("CARGO_BIN_EXE_noc-tui"),
        url = server.base(),
    );
    tmux.start(120, 24, &script);
    // The viewer token views (it is sent as the WebSocket's token too).
    tmux.wait_for("the alerts", |s| {
        s.contains("CONNECTED") && s.contains("crit-1 at")
    })
    .await;
    tmux.keys(&["u"]);
    let said = tmux
        .wait_for("the refusal in words", |s| {
            s.contains("unack of crit-1 failed: the server does not accept this token (401)")
        })
        .await;
    assert!(said.contains("check --user-token"), "{said}");
    server.stop().await;
}
