//! The details drawer and the operator's actions through it.

use fantoccini::key::Key;
use serde_json::{Value, json};

use crate::common::{TestServer, WAIT};
use crate::harness::{
    Browser, HOSTILE, OPERATOR_EMAIL, OPERATOR_TOKEN, Tools, alert, row, users_file,
};

/// What the drawer shows, read from the page.
const DRAWER: &str = "const d = document.getElementById('drawer');
    if (d.hidden) return null;
    const pairs = [...document.querySelectorAll('#drawer-fields > span')].map(s => s.textContent);
    const fields = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i]] = pairs[i + 1];
    return {
        id: d.dataset.id,
        message: document.getElementById('drawer-message').textContent,
        description: document.getElementById('drawer-description').textContent,
        link: (a => a.hidden ? null : [a.href, a.target, a.rel])(document.getElementById('drawer-link')),
        labels: [...document.querySelectorAll('#drawer-labels > span')].map(s => s.textContent),
        fields,
        elements: d.querySelectorAll('img, b').length,
    };";

async fn status(browser: &Browser, what: &str, contains: &str) -> Value {
    browser
        .wait_for(
            what,
            WAIT,
            &format!(
                "const s = document.querySelector('#drawer .action-status');
                 return s && s.textContent.includes({contains:?}) ? s.textContent : null;"
            ),
        )
        .await
}

async fn acked_by(server: &TestServer, id: &str) -> Value {
    server.get_json(&format!("/api/v1/alerts/{id}")).await["acked_by"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drawer_shows_an_alert_and_acknowledges_it() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let users_dir = tempfile::tempdir().expect("tempdir");
    let users = users_file(users_dir.path());
    let server = TestServer::start(&["--users-file", users.to_str().expect("utf-8")]).await;
    server
        .post_ok(&json!([
            alert(
                "kili-core",
                "Kilimanjaro",
                "critical",
                "Core switch sw-01 unreachable"
            ),
            {
                "id": "kili-hostile", "site": "Kilimanjaro", "severity": "average",
                "message": HOSTILE, "host": "kili-hostile.example",
                "description": HOSTILE,
                "url": "https://zabbix.example/tr_events.php?eventid=1",
                "labels": { "team": HOSTILE, "zabbix.eventid": "1" },
            },
        ]))
        .await;
    let browser = Browser::start(&tools).await;
    browser.open(&server, "/?client=desk").await;
    browser
        .wait_for_ids("the snapshot", &["kili-core", "kili-hostile"])
        .await;

    // A click on a row opens its details; hostile text stays text there too.
    browser.click(&row("kili-hostile")).await;
    let shown = browser.wait_for("the drawer", WAIT, DRAWER).await;
    assert_eq!(shown["id"], json!("kili-hostile"));
    assert_eq!(shown["message"], json!(HOSTILE), "the message as text");
    assert_eq!(shown["elements"], json!(0), "hostile text made elements");
    assert_eq!(shown["fields"]["host"], json!("kili-hostile.example"));
    assert_eq!(shown["fields"]["site"], json!("Kilimanjaro"));
    assert_eq!(shown["fields"]["status"], json!("active"));
    assert_eq!(
        shown["description"],
        json!(HOSTILE),
        "the description as text"
    );
    assert_eq!(
        shown["link"],
        json!([
            "https://zabbix.example/tr_events.php?eventid=1",
            "_blank",
            "noopener noreferrer"
        ]),
        "the link opens in a new tab that cannot reach back"
    );
    assert_eq!(
        shown["labels"],
        json!(["team", HOSTILE, "zabbix.eventid", "1"]),
        "the labels as text"
    );
    browser.assert_no_dialog().await;

    // Another row replaces it.
    browser.click(&row("kili-core")).await;
    browser
        .wait_for(
            "the second alert's details",
            WAIT,
            "return document.getElementById('drawer').dataset.id === 'kili-core';",
        )
        .await;

    // Without a token the buttons say so and send nothing.
    browser.click("#drawer .action-ack").await;
    status(&browser, "the token-needed note", "A user token is needed").await;
    assert_eq!(
        acked_by(&server, "kili-core").await,
        Value::Null,
        "nothing sent"
    );

    // A wrong token: the server's refusal, in words.
    browser.click("#signin-open").await;
    browser
        .type_into(
            "#signin-token",
            &format!("not-the-token{}", char::from(Key::Enter)),
        )
        .await;
    browser.click("#drawer .action-ack").await;
    browser
        .type_into("#drawer .form-ack input[name=note]", "on it")
        .await;
    browser.click("#drawer .form-ack button[type=submit]").await;
    status(&browser, "the 401 in words", "The server refused (401)").await;
    assert_eq!(acked_by(&server, "kili-core").await, Value::Null, "refused");

    // Sign out, sign in with the user's token: kept in this tab's
    // sessionStorage, never in the address or a cookie.
    browser.click("#signin-open").await;
    browser.click("#signin-open").await;
    browser
        .type_into(
            "#signin-token",
            &format!("{OPERATOR_TOKEN}{}", char::from(Key::Enter)),
        )
        .await;
    let kept = browser
        .js("return [sessionStorage.getItem('noc.token'), location.href, document.cookie];")
        .await;
    assert_eq!(kept[0], json!(OPERATOR_TOKEN), "in sessionStorage");
    assert!(
        !kept[1].as_str().unwrap_or("").contains(OPERATOR_TOKEN),
        "not in the address"
    );
    assert_eq!(kept[2], json!(""), "no cookie");

    // The ack form, sent with Enter from its note.
    browser.click("#drawer .action-ack").await;
    browser
        .type_into(
            "#drawer .form-ack input[name=note]",
            &format!("power team called{}", char::from(Key::Enter)),
        )
        .await;
    status(&browser, "the ack's answer", "Acknowledged.").await;
    assert_eq!(acked_by(&server, "kili-core").await, json!(OPERATOR_EMAIL));
    let ack_cell = format!(
        "const r = document.querySelector('{}');
         return r && r.classList.contains('acked') ? r.querySelector('.ack').textContent : null;",
        row("kili-core")
    );
    let here = browser
        .wait_for("[ACK] on this page", WAIT, &ack_cell)
        .await;
    assert_eq!(here, json!(format!("[ACK] {OPERATOR_EMAIL}")));
    browser
        .wait_for(
            "the drawer to follow the event",
            WAIT,
            &format!(
                "return [...document.querySelectorAll('#drawer-fields > span')]
                     .some(s => s.textContent === {OPERATOR_EMAIL:?});"
            ),
        )
        .await;

    // Silence the alert's host for a while, from the drawer.
    browser.click("#drawer .action-silence").await;
    browser
        .type_into(
            "#drawer .form-silence input[name=comment]",
            &format!("maintenance window{}", char::from(Key::Enter)),
        )
        .await;
    status(&browser, "the silence's answer", "Silenced host").await;
    let silences = server.get_json("/api/v1/silences").await;
    assert_eq!(silences.as_array().map(Vec::len), Some(1), "{silences}");
    assert_eq!(
        silences[0]["matchers"],
        json!([{ "name": "host", "op": "=", "value": "kili-core.example" }])
    );
    assert_eq!(silences[0]["comment"], json!("maintenance window"));
    assert_eq!(silences[0]["created_by"], json!(OPERATOR_EMAIL));
    // Silenced alerts leave the list and are counted apart.
    let silenced = format!(
        "return document.querySelector('{}') === null
             && document.getElementById('count-silenced').textContent === '1'
             && document.getElementById('count-total').textContent === '1';",
        row("kili-core")
    );
    browser
        .wait_for("the silenced alert hidden", WAIT, &silenced)
        .await;

    // A second page (a new tab: no token there) shows who acknowledged it.
    let tab = browser.client.new_window(true).await.expect("a new tab");
    browser
        .client
        .switch_to_window(tab.handle)
        .await
        .expect("switch to the tab");
    browser.open(&server, "/?client=wall").await;
    browser
        .wait_for("silenced there too", WAIT, &silenced)
        .await;
    browser.click("#toggle-silenced").await;
    let marked = browser
        .wait_for(
            "the silenced alert shown on request",
            WAIT,
            &format!(
                "const r = document.querySelector('{}');
                 return r && [r.classList.contains('silenced'), r.querySelector('.silenced-tag') !== null];",
                row("kili-core")
            ),
        )
        .await;
    assert_eq!(marked, json!([true, true]), "shown, marked SILENCED");
    let there = browser
        .wait_for("[ACK] on a second page", WAIT, &ack_cell)
        .await;
    assert_eq!(there, json!(format!("[ACK] {OPERATOR_EMAIL}")));
    let token = browser
        .js("return sessionStorage.getItem('noc.token');")
        .await;
    assert_eq!(token, Value::Null, "the token stays in its own tab");

    browser.close().await;
    server.stop().await;
}
