//! The bell: blocked until someone clicks, a tone for a new critical
//! alert, at most one per 5 s, and none while muted.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{TestServer, WAIT};
use crate::harness::{Browser, Tools, alert, row};

const SOUND: &str = "return window.noc.sound;";

async fn sound(browser: &Browser) -> Value {
    browser.js(SOUND).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bell_rings_for_a_new_critical_and_the_mute_stops_it() {
    let Some(tools) = Tools::or_skip() else {
        return;
    };
    let server = TestServer::start(&[]).await;
    server
        .post_ok(&alert(
            "old-crit",
            "Kilimanjaro",
            "critical",
            "Known before the page",
        ))
        .await;
    let browser = Browser::start(&tools).await;
    browser.open(&server, "/?bell=critical&client=bell").await;
    browser.wait_for_ids("the snapshot", &["old-crit"]).await;

    // Until someone clicks, the browser keeps the page silent, and the page
    // says so.
    let blocked = browser
        .js("return [window.noc.sound.blocked, !document.getElementById('sound-blocked').hidden];")
        .await;
    assert_eq!(blocked, json!([true, true]), "blocked, with the note shown");
    browser.click("#sound-blocked").await;
    browser
        .wait_for(
            "sound allowed after a click",
            WAIT,
            "return !window.noc.sound.blocked && document.getElementById('sound-blocked').hidden;",
        )
        .await;
    assert_eq!(
        sound(&browser).await["played"],
        json!(0),
        "a snapshot never rings"
    );

    // A new critical alert rings once; a high one never does.
    server
        .post_ok(&alert("new-high", "Kilimanjaro", "high", "Below the bell"))
        .await;
    server
        .post_ok(&alert(
            "new-crit",
            "Kilimanjaro",
            "critical",
            "Power feed A lost",
        ))
        .await;
    let rang = Instant::now();
    browser
        .wait_for("the tone", WAIT, "return window.noc.sound.played === 1;")
        .await;

    // Muted: a second new critical, due after the 5 s gap, stays silent.
    browser.click("#mute").await;
    assert_eq!(sound(&browser).await["muted"], json!(true));
    server
        .post_ok(&alert(
            "new-crit-2",
            "Serengeti",
            "critical",
            "Radio link down",
        ))
        .await;
    browser
        .wait_for(
            "the second alert on screen",
            WAIT,
            &format!(
                "return document.querySelector('{}') !== null;",
                row("new-crit-2")
            ),
        )
        .await;
    browser
        .wait_for(
            "the muted tone to fall due",
            WAIT,
            "return window.noc.sound.mutedSkips >= 1;",
        )
        .await;
    assert!(
        rang.elapsed() >= Duration::from_millis(4500),
        "a second tone fell due only {:?} after the first",
        rang.elapsed()
    );
    let after = sound(&browser).await;
    assert_eq!(after["played"], json!(1), "muted: no tone: {after}");
    assert!(
        browser
            .js("return document.getElementById('mute').textContent;")
            .await
            .as_str()
            .is_some_and(|t| t.starts_with("Muted until")),
        "the button says until when"
    );

    // Unmuted, the alerts still new and unacknowledged ring again.
    browser.click("#mute").await;
    browser
        .wait_for(
            "the tone after unmuting",
            WAIT,
            "return window.noc.sound.played === 2;",
        )
        .await;
    browser.close().await;
    server.stop().await;
}
