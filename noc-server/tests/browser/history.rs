//! The drawer's notes and history from the API, kept up to date while it
//! is open, through a whole life: acknowledged with a note and an expiry,
//! noted, unacknowledged, resolved. The token comes from `?token=`, as on
//! a kiosk.

use fantoccini::key::Key;
use serde_json::{Value, json};

use crate::common::{TestServer, WAIT};
use crate::harness::{Browser, OPERATOR_EMAIL, OPERATOR_TOKEN, Tools, alert, row, users_file};

/// The history on screen: one "event by" line per entry, and the notes.
const SHOWN: &str = "return {
    history: [...document.querySelectorAll('#drawer-history > li')].map(li =>
        li.querySelector('.what').textContent + ' by ' + li.querySelector('.by').textContent),
    notes: [...document.querySelectorAll('#drawer-notes > li')].map(li =>
        li.querySelector('.by').textContent + ': ' + li.querySelector('.text').textContent),
    text: document.getElementById('drawer-history').textContent,
};";

/// Waits until the drawer's history has `n` entries and returns it.
async fn history(browser: &Browser, what: &str, n: usize) -> Value {
    browser
        .wait_for(
            what,
            WAIT,
            &format!(
                "const shown = (() => {{ {SHOWN} }})();
                 return shown.history.length === {n} ? shown : null;"
            ),
        )
        .await
}

async fn field(browser: &Browser, name: &str) -> Value {
    browser
        .js(&format!(
            "const s = [...document.querySelectorAll('#drawer-fields > span')];
             const i = s.findIndex(x => x.textContent === {name:?});
             return i < 0 ? null : s[i + 1].textContent;"
        ))
        .await
}

async fn send(browser: &Browser, action: &str, inputs: &[(&str, &str)], answer: &str) {
    browser.click(&format!("#drawer .action-{action}")).await;
    for (name, text) in inputs {
        browser
            .type_into(&format!("#drawer .form-{action} input[name={name}]"), text)
            .await;
    }
    browser
        .click(&format!("#drawer .form-{action} button[type=submit]"))
        .await;
    browser
        .wait_for(
            answer,
            WAIT,
            &format!(
                "const s = document.querySelector('#drawer .action-status');
                 return s.textContent === {answer:?} || (s.classList.contains('error') ? s.textContent : false);"
            ),
        )
        .await;
    let said = browser
        .js("return document.querySelector('#drawer .action-status').textContent;")
        .await;
    assert_eq!(said, json!(answer), "{action}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drawer_follows_an_alerts_life_with_notes_and_history() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let users_dir = tempfile::tempdir().expect("tempdir");
    let users = users_file(users_dir.path());
    let server = TestServer::start(&["--users-file", users.to_str().expect("utf-8")]).await;
    server
        .post_ok(&alert(
            "kili-gen",
            "Kilimanjaro",
            "high",
            "Generator fuel low",
        ))
        .await;
    let browser = Browser::start(&tools).await;
    browser
        .open(&server, &format!("/?client=kiosk&token={OPERATOR_TOKEN}"))
        .await;
    browser.wait_for_ids("the alert", &["kili-gen"]).await;
    browser.click(&row("kili-gen")).await;
    let shown = history(&browser, "the history", 1).await;
    assert_eq!(shown["history"], json!(["alert.created by webhook"]));

    // Acknowledged with a note and an expiry.
    let ack = [("note", "fuel truck booked"), ("expires_in", "2h")];
    send(&browser, "ack", &ack, "Acknowledged.").await;
    let shown = history(&browser, "the ack in the history", 2).await;
    assert_eq!(
        shown["history"][1],
        json!(format!("alert.acknowledged by {OPERATOR_EMAIL}"))
    );
    assert!(
        shown["text"]
            .as_str()
            .is_some_and(|t| t.contains("“fuel truck booked”"))
    );
    assert_eq!(
        field(&browser, "ack_note").await,
        json!("fuel truck booked")
    );
    assert_ne!(
        field(&browser, "ack_expires_at").await,
        json!("—"),
        "an expiry"
    );

    // A note, sent with Enter.
    let text = format!("generator refuelled{}", char::from(Key::Enter));
    browser.click("#drawer .action-note").await;
    browser
        .type_into("#drawer .form-note input[name=text]", &text)
        .await;
    let shown = history(&browser, "the note in the history", 3).await;
    assert_eq!(
        shown["notes"],
        json!([format!("{OPERATOR_EMAIL}: generator refuelled")])
    );
    assert_eq!(field(&browser, "notes").await, json!("1"));

    // Unacknowledged: the row loses its [ACK].
    send(&browser, "unack", &[], "Acknowledgement taken back.").await;
    history(&browser, "the unack in the history", 4).await;
    browser
        .wait_for(
            "the row without its ack",
            WAIT,
            &format!(
                "const r = document.querySelector('{}');
                 return r && !r.classList.contains('acked') && r.querySelector('.ack').textContent === '';",
                row("kili-gen")
            ),
        )
        .await;

    // Resolved by its source: the row goes, the drawer stays and says so.
    server
        .post_ok(&json!({ "id": "kili-gen", "event": "alert.resolved" }))
        .await;
    let shown = history(&browser, "the resolution in the history", 5).await;
    assert_eq!(shown["history"][4], json!("alert.resolved by webhook"));
    assert_eq!(field(&browser, "status").await, json!("resolved"));
    browser.wait_for_ids("the row gone", &[]).await;
    browser.close().await;
    server.stop().await;
}
