//! The operator's part two in a real terminal (tmux) against the real
//! server: select a row, open it, close it with Esc (the screen stays), ack
//! it with a note and see `[ACK] irene` on a second screen within a second,
//! see the note and the history in the details and a new note arrive in
//! them live, unack from the details,
//! narrow the list with `/`, silence a site for 2 s and see its row leave
//! and come back, the action keys of a screen without a user token, and a
//! profile put, an identify and a profile removed through the API. Skipped, and says so, without tmux.

mod common;

use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::{Server, alert, skip_or_fail, within};
use serde_json::Value;

const USER_TOKEN: &str = "irene-token";

/// A server that knows irene, with two alerts.
async fn server() -> Server {
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("tempdir"));
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        format!("[[user]]\nemail = \"irene@sprinttz.example\"\ntoken = \"{USER_TOKEN}\"\n"),
    )
    .expect("users file");
    let users = users.display().to_string();
    let server = Server::start_on(dir, "127.0.0.1:0", &["--users-file", &users]).await;
    server
        .post(&alert("crit-1", "Kilimanjaro", "critical"))
        .await;
    server.post(&alert("warn-1", "Serengeti", "warning")).await;
    server
}

/// `noc-tui` in a tmux of its own, named `name`, with these extra flags;
/// after it exits the shell prints its exit code and waits.
fn screen(server: &Server, name: &str, extra: &str) -> Tmux {
    let tmux = Tmux::new(name);
    let script = format!(
        "env -u NO_COLOR -u NOC_URL -u NOC_SITES -u NOC_TOKEN -u NOC_USER_TOKEN TERM=xterm-256color \
         {bin} --url {url} --name {name} {extra}; echo EXIT=$?; sleep 60",
        bin = env!("CARGO_BIN_EXE_noc-tui"),
        url = server.base(),
    );
    // Tall enough for a whole details pane, history included.
    tmux.start(110, 60, &script);
    tmux
}

/// The screen's line holding `needle`.
fn row<'a>(screen: &'a str, needle: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(needle))
}

#[tokio::test]
async fn ack_with_a_note_shows_on_a_second_screen_within_a_second() {
    if !Tmux::installed() {
        skip_or_fail("NOC_REQUIRE_TMUX", "tmux");
        return;
    }
    let server = server().await;
    let desk = screen(&server, "desk", &format!("--user-token {USER_TOKEN}"));
    let wall = screen(&server, "wall", "");
    let both =
        |s: &str| s.contains("CONNECTED") && s.contains("crit-1 at") && s.contains("warn-1 at");
    desk.wait_for("the desk's alerts", both).await;
    wall.wait_for("the wall's alerts", both).await;

    // Select the second row: the mark moves to it.
    desk.keys(&["Down"]);
    desk.wait_for("the second row selected", |s| {
        row(s, "warn-1 at").is_some_and(|l| l.starts_with("> "))
    })
    .await;
    // Enter opens it; Esc closes it and the screen stays.
    desk.keys(&["Enter"]);
    let open = desk
        .wait_for("the details", |s| s.contains("warn-1 — Esc closes"))
        .await;
    assert!(open.contains("message  warn-1 at Serengeti"), "{open}");
    assert!(open.contains("host  warn-1.host"), "{open}");
    desk.keys(&["Escape"]);
    let back = desk
        .wait_for("the list again", |s| {
            s.contains("ALERTS 2") && !s.contains("Esc closes")
        })
        .await;
    assert!(
        !back.contains("EXIT="),
        "Esc from the details does not quit:\n{back}"
    );

    // a: a note, then no expiry; the ack goes after the second Enter.
    desk.keys(&["a"]);
    desk.wait_for("the note prompt", |s| {
        s.contains("Ack note (Enter for none):")
    })
    .await;
    desk.type_text("on it");
    desk.keys(&["Enter"]);
    desk.wait_for("the expiry prompt", |s| s.contains("Ack expires in"))
        .await;
    let sent = Instant::now();
    desk.keys(&["Enter"]);
    let seen = wall
        .wait_for("[ACK] irene on the wall", |s| {
            row(s, "warn-1 at").is_some_and(|l| l.contains("[ACK] irene"))
        })
        .await;
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(1), "took {took:?}:\n{seen}");
    desk.wait_for("the outcome in words", |s| {
        s.contains("done: ack of warn-1")
    })
    .await;
    let stored: Value = within(
        "GET the alert",
        server
            .http
            .get(format!("{}/api/v1/alerts/warn-1", server.base()))
            .send(),
    )
    .await
    .expect("GET")
    .json()
    .await
    .expect("JSON");
    assert_eq!(stored["acked_by"], "irene@sprinttz.example");

    // The wall has no user token: its action keys say so and ask nothing.
    wall.keys(&["a"]);
    let said = wall
        .wait_for("the wall's refusal", |s| {
            s.contains("a user token is needed")
        })
        .await;
    assert!(!said.contains("Ack note"), "{said}");

    // The details show the ack's note and its history, and follow a note
    // added from them, live.
    desk.keys(&["Enter"]);
    let open = desk
        .wait_for("the acked alert's history", |s| {
            s.contains("warn-1 — Esc closes")
                && s.contains("alert.acknowledged  by irene@sprinttz.example  note: on it")
        })
        .await;
    assert!(open.contains("ack note  on it"), "{open}");
    assert!(open.contains("acked by  irene@sprinttz.example"), "{open}");
    desk.keys(&["n"]);
    desk.wait_for("the note prompt", |s| s.contains("Note: "))
        .await;
    desk.type_text("fibre cut at km 12");
    desk.keys(&["Enter"]);
    desk.wait_for("the note in the open details", |s| {
        s.contains("NOTES 1") && s.contains("irene@sprinttz.example: fibre cut at km 12")
    })
    .await;
    // u from the details takes the ack back, on every screen.
    desk.keys(&["u"]);
    wall.wait_for("the ack gone from the wall", |s| {
        row(s, "warn-1 at").is_some_and(|l| !l.contains("[ACK]"))
    })
    .await;
    desk.wait_for("the unack in the history", |s| {
        s.contains("alert.unacknowledged  by irene@sprinttz.example")
    })
    .await;
    desk.keys(&["Escape"]);
    desk.wait_for("the list again", |s| {
        s.contains("ALERTS 2") && !s.contains("Esc closes")
    })
    .await;

    // `/` narrows as it is typed; Esc clears it, a second Esc quits.
    desk.keys(&["/"]);
    desk.type_text("seren");
    let narrowed = desk
        .wait_for("the filtered list", |s| {
            s.contains("ALERTS 1  filter \"seren\"")
        })
        .await;
    assert!(!narrowed.contains("crit-1 at"), "{narrowed}");
    assert!(narrowed.contains("warn-1 at"), "{narrowed}");
    desk.keys(&["Escape"]);
    desk.wait_for("the whole list", |s| {
        s.contains("ALERTS 2") && s.contains("crit-1 at")
    })
    .await;
    desk.keys(&["Escape"]);
    let after = desk
        .wait_for("noc-tui to exit", |s| s.contains("EXIT="))
        .await;
    assert!(after.contains("EXIT=0"), "{after}");
    server.stop().await;
}

#[tokio::test]
async fn s_silences_the_site_for_two_seconds_and_its_row_leaves_and_comes_back() {
    if !Tmux::installed() {
        skip_or_fail("NOC_REQUIRE_TMUX", "tmux");
        return;
    }
    let server = server().await;
    let desk = screen(&server, "silencer", &format!("--user-token {USER_TOKEN}"));
    desk.wait_for("the alerts", |s| {
        s.contains("CONNECTED") && s.contains("crit-1 at")
    })
    .await;
    desk.keys(&["s"]);
    desk.wait_for("host or site?", |s| {
        s.contains("Silence the host or the site?")
    })
    .await;
    desk.type_text("s");
    desk.keys(&["Enter"]);
    desk.wait_for("how long?", |s| s.contains("Silence for how long"))
        .await;
    desk.type_text("2s");
    desk.keys(&["Enter"]);
    desk.wait_for("why?", |s| s.contains("Silence comment:"))
        .await;
    desk.type_text("core switch swap");
    desk.keys(&["Enter"]);
    let posted = Instant::now();
    desk.wait_for("the outcome", |s| {
        s.contains("done: silence of site Kilimanjaro")
    })
    .await;
    // The site's row leaves, counted as silenced; the other stays.
    let hidden = desk
        .wait_for("the row to leave", |s| !s.contains("crit-1 at"))
        .await;
    assert!(hidden.contains("SILENCED 1 (hidden)"), "{hidden}");
    assert!(hidden.contains("warn-1 at"), "{hidden}");
    // z shows it, marked; z again hides it.
    desk.keys(&["z"]);
    desk.wait_for("the silenced row shown", |s| {
        row(s, "crit-1 at").is_some_and(|l| l.contains("[SILENCED]"))
    })
    .await;
    desk.keys(&["z"]);
    // The silence ends 2 s after it was posted: the row comes back by
    // itself, within a second of that.
    let back = desk
        .wait_for("the row to come back", |s| {
            row(s, "crit-1 at").is_some_and(|l| !l.contains("[SILENCED]"))
        })
        .await;
    assert!(back.contains("SILENCED 0"), "{back}");
    let took = posted.elapsed();
    assert!(took < Duration::from_secs(4), "back after {took:?}");
    let silences: Value = within(
        "GET /api/v1/silences",
        server
            .http
            .get(format!("{}/api/v1/silences?state=all", server.base()))
            .send(),
    )
    .await
    .expect("GET")
    .json()
    .await
    .expect("JSON");
    let silence = &silences[0];
    assert_eq!(
        silence["matchers"],
        serde_json::json!([{"name": "site", "op": "=", "value": "Kilimanjaro"}])
    );
    assert_eq!(silence["comment"], "core switch swap");
    assert_eq!(silence["created_by"], "irene@sprinttz.example");
    server.stop().await;
}

/// A user's request to the server, expecting `status`.
async fn as_user(server: &Server, method: reqwest::Method, path: &str, body: Option<Value>) -> u16 {
    let mut request = server
        .http
        .request(method, format!("{}{path}", server.base()))
        .bearer_auth(USER_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    within(path, request.send())
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_profile_retitles_and_turns_the_screen_and_identify_names_it() {
    if !Tmux::installed() {
        skip_or_fail("NOC_REQUIRE_TMUX", "tmux");
        return;
    }
    let server = server().await;
    let wall = screen(&server, "wall-3", "");
    wall.wait_for("the list", |s| {
        s.starts_with("NOC wall-3") && s.contains("ALERTS 2")
    })
    .await;

    let profile = serde_json::json!({"title": "Tanzania NOC", "view": "board", "bell": "critical"});
    let put = as_user(
        &server,
        reqwest::Method::PUT,
        "/api/v1/screens/wall-3/profile",
        Some(profile),
    )
    .await;
    assert_eq!(put, 200);
    let board = wall
        .wait_for("the profile's title and board", |s| {
            s.starts_with("Tanzania NOC (wall-3)") && s.contains("┌ Kilimanjaro")
        })
        .await;
    assert!(board.contains("SITES 2"), "{board}");

    let asked = Instant::now();
    let post = as_user(
        &server,
        reqwest::Method::POST,
        "/api/v1/screens/wall-3/identify",
        None,
    )
    .await;
    assert_eq!(post, 202);
    let named = wall
        .wait_for("the name across the screen", |s| s.contains("W A L L - 3"))
        .await;
    assert!(
        !named.contains("SITES 2"),
        "the name covers the screen:\n{named}"
    );
    wall.wait_for("the board again", |s| {
        s.contains("SITES 2") && !s.contains("W A L L - 3")
    })
    .await;
    let shown = asked.elapsed();
    assert!(
        shown >= Duration::from_secs(9) && shown < Duration::from_secs(12),
        "shown for {shown:?}"
    );

    // The profile removed: the screen's own settings again.
    let delete = as_user(
        &server,
        reqwest::Method::DELETE,
        "/api/v1/screens/wall-3/profile",
        None,
    )
    .await;
    assert_eq!(delete, 204);
    wall.wait_for("its own title and list", |s| {
        s.starts_with("NOC wall-3") && s.contains("ALERTS 2")
    })
    .await;
    server.stop().await;
}
